"""Set-based portfolio upserts: a batch of validated debtors in a handful of statements.

Same rules as :class:`~bot.storage.repositories.portfolio.PortfolioRepository`'s one-by-one upserts
(which stay for single changes): by external id, a contact's ``status`` and a debt's
``paid_amount``/``status`` are kept, and a debtor whose contact address belongs to another
debtor is rejected whole. A debt's external id is the creditor's and never changes debtor:
a debtor listing a debt that belongs to another debtor (stored, or earlier in the batch), or
the same debt twice, is rejected whole, with its row and the reason. Per batch:

1. who already owns the batch's contact addresses and debts (one query each) — a debtor
   claiming another debtor's address or debt (or one claimed earlier in the batch) is
   rejected;
2. ``INSERT … ON CONFLICT (creditor_id, external_id) DO UPDATE`` for the debtors, then one
   query for their ids;
3. the same for contacts (``ON CONFLICT (channel, address)``) and debts (``ON CONFLICT
   (creditor_id, external_id)``), both only when still the same debtor's (an import racing
   this one cannot move a row either).

On PostgreSQL the rows are ``COPY``-ed into temporary staging tables and upserted with one
``INSERT … SELECT … ON CONFLICT`` each; on SQLite the driver's ``executemany`` runs the
upsert with values converted once per column type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot import schemas
from bot.storage import models as db
from bot.storage.dialect import dialect_of, upsert_into
from bot.storage.tables import table_of

# Rows per statement: below SQLite's 32,766 bound parameters and asyncpg's 32,767.
KEYS_PER_QUERY = 2_000


debtors_t = table_of(db.Debtor)
contacts_t = table_of(db.Contact)
debts_t = table_of(db.Debt)


OWNERS_SQL = """
SELECT c.channel, c.address, d.id, d.creditor_id, d.external_id
FROM unnest($1::varchar[], $2::varchar[]) AS k(channel, address)
JOIN contacts c ON c.channel = k.channel AND c.address = k.address
JOIN debtors d ON d.id = c.debtor_id"""
DEBTORS_SQL = """
INSERT INTO debtors ({columns}) SELECT {columns} FROM {stage}
ON CONFLICT (creditor_id, external_id) DO UPDATE SET name = excluded.name, tax_id = excluded.tax_id,
  timezone = excluded.timezone, locale = excluded.locale, updated_at = excluded.updated_at
RETURNING id, external_id"""
CONTACTS_SQL = """
INSERT INTO contacts ({columns}) SELECT {columns} FROM {stage}
ON CONFLICT (channel, address) DO UPDATE SET name = excluded.name, locale = excluded.locale,
  timezone = excluded.timezone
WHERE contacts.debtor_id = excluded.debtor_id"""
DEBTS_SQL = """
INSERT INTO debts ({columns}) SELECT {columns} FROM {stage}
ON CONFLICT (creditor_id, external_id) DO UPDATE SET
  amount = excluded.amount, currency = excluded.currency, due_date = excluded.due_date,
  description = excluded.description, updated_at = excluded.updated_at
WHERE debts.debtor_id = excluded.debtor_id"""


@dataclass
class BulkResult:
    debtors: int = 0
    contacts: int = 0
    debts: int = 0
    rejected: list[schemas.RejectedRow] = field(default_factory=list)


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class BulkPortfolioWriter:
    """Upserts batches of debtors of one creditor in the caller's session (the caller commits)."""

    def __init__(self, session: AsyncSession, creditor_id: str, now: datetime) -> None:
        self.session = session
        self.creditor_id = creditor_id
        self.now = now
        self.dialect = dialect_of(session)

    def _insert(self, table: Table) -> Any:
        return upsert_into(self.session, table)

    async def write(self, batch: Sequence[tuple[int, schemas.DebtorIn]]) -> BulkResult:
        result = BulkResult()
        latest: dict[str, tuple[int, schemas.DebtorIn]] = {}
        for line, debtor in batch:  # the same debtor twice in a batch: the later one wins
            latest[debtor.external_id] = (line, debtor)
        accepted = await self._without_conflicts(list(latest.values()), result)
        if not accepted:
            return result
        ids = await self._upsert_debtors([d for _, d in accepted])
        contacts, debts = self._contact_and_debt_rows(accepted, ids, result)
        if self.dialect == "postgresql":
            await self._copy_upsert(contacts_t, contacts, CONTACTS_SQL)
            await self._copy_upsert(debts_t, debts, DEBTS_SQL)
        else:
            await self._upsert_contacts_and_debts(contacts, debts)
        return result

    def _contact_and_debt_rows(self, accepted: Sequence[tuple[int, schemas.DebtorIn]], ids: dict[str, int],
                               result: BulkResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The contacts and debts rows of the accepted debtors (one per address, one per debt
        external id: the later wins), counted in ``result``."""
        contacts: dict[tuple[str, str], dict[str, Any]] = {}
        debts: dict[str, dict[str, Any]] = {}
        for _, debtor in accepted:
            debtor_id = ids[debtor.external_id]
            for contact in debtor.contacts:
                contacts[(contact.channel, contact.address)] = {
                    "debtor_id": debtor_id,
                    "name": contact.name,
                    "channel": contact.channel,
                    "address": contact.address,
                    "locale": contact.locale,
                    "timezone": contact.timezone,
                    "created_at": self.now,
                }
            for debt in debtor.debts:
                debts[debt.external_id] = {
                    "creditor_id": self.creditor_id,
                    "debtor_id": debtor_id,
                    "external_id": debt.external_id,
                    "amount": debt.amount,
                    "currency": debt.currency,
                    "due_date": debt.due_date,
                    "description": debt.description,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            result.debtors += 1
            result.contacts += len(debtor.contacts)
            result.debts += len(debtor.debts)
        return list(contacts.values()), list(debts.values())

    async def _upsert_contacts_and_debts(self, contacts: list[dict[str, Any]],
                                         debts: list[dict[str, Any]]) -> None:
        """SQLite: the rows by ``INSERT ... ON CONFLICT`` in batches (PostgreSQL copies them)."""
        if contacts:
            statement = self._insert(contacts_t)
            excluded = statement.excluded
            await self._executemany(
                statement.on_conflict_do_update(
                    index_elements=["channel", "address"],
                    set_={"name": excluded.name, "locale": excluded.locale, "timezone": excluded.timezone},
                    where=contacts_t.c.debtor_id == excluded.debtor_id,
                ),
                contacts_t,
                contacts,
            )
        if debts:
            statement = self._insert(debts_t)
            excluded = statement.excluded
            await self._executemany(
                statement.on_conflict_do_update(
                    index_elements=["creditor_id", "external_id"],
                    set_={
                        "amount": excluded.amount,
                        "currency": excluded.currency,
                        "due_date": excluded.due_date,
                        "description": excluded.description,
                        "updated_at": excluded.updated_at,
                    },
                    where=debts_t.c.debtor_id == excluded.debtor_id,
                ),
                debts_t,
                debts,
            )

    async def _driver(self) -> Any:
        """The DB-API driver's own connection, inside the session's transaction."""
        connection = await self.session.connection()
        await connection.execute(text("SELECT 1"))  # the transaction begins before raw use
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def _executemany(self, statement: Any, table: Table, rows: list[dict[str, Any]]) -> None:
        """SQLite: the driver's ``executemany`` with values converted once per column type
        (SQLAlchemy's own per-row bookkeeping costs more than the insert)."""
        connection = await self.session.connection()
        dialect = connection.dialect
        compiled = statement.compile(dialect=dialect, column_keys=list(rows[0]))
        names = list(compiled.positiontup or [])
        processors = {}
        for name in names:
            column = table.c.get(name)
            processor = column.type.bind_processor(dialect) if column is not None else None
            if processor is not None:
                processors[name] = processor
        constants: dict[str, Any] = {}
        for name in names:
            if name not in rows[0]:  # a column with a Python-side default (status, paid_amount)
                default = table.c[name].default
                value = getattr(default, "arg", None)
                constants[name] = value(None) if callable(value) else value
        params = [
            tuple(
                (
                    processors[n](row[n] if n in row else constants[n])
                    if n in processors
                    else (row[n] if n in row else constants[n])
                )
                for n in names
            )
            for row in rows
        ]
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.executemany(str(compiled), params)

    async def _copy_upsert(
        self, table: Table, rows: list[dict[str, Any]], sql: str, returning: bool = False
    ) -> list[Any]:
        """PostgreSQL: ``COPY`` the rows into a temporary staging table, then one
        ``INSERT … SELECT … ON CONFLICT`` from it."""
        if not rows:
            return []
        driver = await self._driver()
        stage = f"stage_{table.name}"
        columns = list(rows[0])
        await driver.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} "
            f"(LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        await driver.execute(f"TRUNCATE {stage}")
        await driver.copy_records_to_table(
            stage, records=[tuple(r[c] for c in columns) for r in rows], columns=columns
        )
        statement = sql.format(stage=stage, columns=", ".join(columns))
        if returning:
            return list(await driver.fetch(statement))
        await driver.execute(statement)
        return []

    async def _without_conflicts(
        self, items: list[tuple[int, schemas.DebtorIn]], result: BulkResult
    ) -> list[tuple[int, schemas.DebtorIn]]:
        """Drop (and report) debtors claiming an address that belongs to another debtor."""
        addresses = list({(c.channel, c.address) for _, d in items for c in d.contacts})
        owners = await self._address_owners(addresses)
        debt_owners = await self._debt_owners({debt.external_id for _, d in items for debt in d.debts})
        claimed: dict[tuple[str, str], str] = {}
        claimed_debts: dict[str, str] = {}
        accepted = []
        for line, debtor in items:
            debt_conflict = self._debt_conflict(debtor, debt_owners, claimed_debts)
            if debt_conflict:
                result.rejected.append(
                    schemas.RejectedRow(row=line, field="debts.external_id", reason=debt_conflict))
                continue
            conflict = self._contact_conflict(debtor, owners, claimed)
            if conflict:
                result.rejected.append(
                    schemas.RejectedRow(row=line, field="contacts.address", reason=conflict)
                )
                continue
            for contact in debtor.contacts:
                claimed[(contact.channel, contact.address)] = debtor.external_id
            for debt in debtor.debts:
                claimed_debts[debt.external_id] = debtor.external_id
            accepted.append((line, debtor))
        return accepted

    async def _address_owners(self, addresses: Sequence[tuple[str, str]]
                              ) -> dict[tuple[str, str], tuple[int, str, str]]:
        """(channel, address) -> (debtor id, creditor, debtor external id) of the stored ones."""
        owners: dict[tuple[str, str], tuple[int, str, str]] = {}
        if self.dialect == "postgresql" and addresses:
            driver = await self._driver()
            for record in await driver.fetch(
                OWNERS_SQL, [a[0] for a in addresses], [a[1] for a in addresses]
            ):
                owners[(record[0], record[1])] = (record[2], record[3], record[4])
            return owners
        for part in _chunks(addresses, KEYS_PER_QUERY):
            rows = await self.session.execute(
                select(
                    contacts_t.c.channel,
                    contacts_t.c.address,
                    debtors_t.c.id,
                    debtors_t.c.creditor_id,
                    debtors_t.c.external_id,
                )
                .select_from(contacts_t.join(debtors_t, debtors_t.c.id == contacts_t.c.debtor_id))
                .where(tuple_(contacts_t.c.channel, contacts_t.c.address).in_(list(part)))
            )
            for channel, address, owner_id, creditor_id, external_id in rows:
                owners[(channel, address)] = (owner_id, creditor_id, external_id)
        return owners

    def _contact_conflict(self, debtor: schemas.DebtorIn,
                          owners: dict[tuple[str, str], tuple[int, str, str]],
                          claimed: dict[tuple[str, str], str]) -> str | None:
        """Why ``debtor`` may not list one of its addresses (another debtor's, stored or earlier
        in the file), or ``None``."""
        for contact in debtor.contacts:
            key = (contact.channel, contact.address)
            owner = owners.get(key)
            if owner is not None and (owner[1], owner[2]) != (self.creditor_id, debtor.external_id):
                return f"{contact.channel}:{contact.address} already belongs to debtor #{owner[0]}"
            if claimed.get(key, debtor.external_id) != debtor.external_id:
                return (
                    f"{contact.channel}:{contact.address} already belongs to debtor "
                    f"{claimed[key]!r} (earlier in the file)"
                )
        return None

    @staticmethod
    def _debt_conflict(debtor: schemas.DebtorIn, owners: dict[str, str],
                       claimed: dict[str, str]) -> str | None:
        """Why ``debtor`` may not list its debts (another's, or one twice), or ``None``."""
        seen: set[str] = set()
        for debt in debtor.debts:
            if debt.external_id in seen:
                return f"debt {debt.external_id!r} is listed twice"
            seen.add(debt.external_id)
            owner = owners.get(debt.external_id)
            if owner is not None and owner != debtor.external_id:
                return f"debt {debt.external_id!r} belongs to debtor {owner!r}"
            earlier = claimed.get(debt.external_id, debtor.external_id)
            if earlier != debtor.external_id:
                return f"debt {debt.external_id!r} belongs to debtor {earlier!r} (earlier in the file)"
        return None

    async def _debt_owners(self, external_ids: set[str]) -> dict[str, str]:
        """The external id of the debtor owning each stored debt among ``external_ids``."""
        owners: dict[str, str] = {}
        for part in _chunks(sorted(external_ids), KEYS_PER_QUERY):
            rows = await self.session.execute(
                select(debts_t.c.external_id, debtors_t.c.external_id)
                .select_from(debts_t.join(debtors_t, debtors_t.c.id == debts_t.c.debtor_id))
                .where(debts_t.c.creditor_id == self.creditor_id, debts_t.c.external_id.in_(list(part))))
            owners.update({debt_id: debtor_id for debt_id, debtor_id in rows})
        return owners

    async def _upsert_debtors(self, items: list[schemas.DebtorIn]) -> dict[str, int]:
        rows = [
            {
                "creditor_id": self.creditor_id,
                "external_id": d.external_id,
                "name": d.name,
                "tax_id": d.tax_id,
                "timezone": d.timezone,
                "locale": d.locale,
                "created_at": self.now,
                "updated_at": self.now,
            }
            for d in items
        ]
        if self.dialect == "postgresql":
            returned = await self._copy_upsert(debtors_t, rows, DEBTORS_SQL, returning=True)
            return {row["external_id"]: row["id"] for row in returned}
        statement = self._insert(debtors_t)
        excluded = statement.excluded
        await self._executemany(
            statement.on_conflict_do_update(
                index_elements=["creditor_id", "external_id"],
                set_={
                    "name": excluded.name,
                    "tax_id": excluded.tax_id,
                    "timezone": excluded.timezone,
                    "locale": excluded.locale,
                    "updated_at": excluded.updated_at,
                },
            ),
            debtors_t,
            rows,
        )
        ids: dict[str, int] = {}
        for part in _chunks([d.external_id for d in items], KEYS_PER_QUERY):
            found = await self.session.execute(
                select(debtors_t.c.external_id, debtors_t.c.id).where(
                    debtors_t.c.creditor_id == self.creditor_id, debtors_t.c.external_id.in_(list(part))
                )
            )
            ids.update({external_id: debtor_id for external_id, debtor_id in found})
        return ids
