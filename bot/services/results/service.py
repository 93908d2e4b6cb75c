"""The results dashboard's figures, computed by set-based SQL from the stored facts.

Nothing here keeps a counter: every figure is a grouped query over debts, payments,
agreements, promises, offers, messages and audit events for one creditor and one period
(``[start, end]`` in the creditor's time zone). Definitions are in docs/dashboard.md.

Two kinds of measures:

- **debtor measures** (overdue, recovered, agreements, promises, days to payment, resolved
  without a human, negotiations) are grouped by the debtor's *segment* (the policy's first
  matching segment, by the rule the régua uses, for the debtor's oldest due date, outstanding
  principal, face amount and payment history at the end of the period) and the debtor's
  *channel* (the channel of its first contact);
- **message measures** (contacts, cost) are grouped by the message's own channel, cadence
  step (its template's place in the policy's cadences) and template version (the newest
  saved version of that template and channel when it was sent; ``file`` before any).

Python only merges the few grouped rows into tables and ratios.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause

from bot.clock import Clock
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.services.results.figures import Period, Results, assemble, cadence_steps, portal_figures
from bot.services.results.queries import (
    MESSAGE_SQL,
    OVER_TIME_SQL,
    PAID_TABLE_SQL,
    SHARED_PREFIXES,
    SHARED_TABLES_KEPT,
    STATUS_SQL,
    TOUCH_SQL,
    DebtorSegments,
    debtor_statement,
    portal_statement,
    segment_table_sql,
)
from bot.storage.dialect import dialect_of
from bot.storage.staff_models import TemplateVersion
from bot.storage.types import UTCDateTime
from bot.storage.uow import UnitOfWorkFactory


class ResultsService:
    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook,
                 message_costs: Mapping[str, Decimal], agent_cost_per_hour: Decimal,
                 agent_minutes_per_message: Decimal, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self._policies = policies
        self._message_costs = dict(message_costs)
        self._agent_cost = (agent_cost_per_hour * agent_minutes_per_message / 60)

    def period(self, creditor: str, start: date, end: date) -> Period:
        return Period(start, end, self._policies[creditor].creditor.timezone)

    async def compute(self, creditor: str, start: date, end: date) -> Results:
        policy = self._policies[creditor]
        period = self.period(creditor, start, end)
        segment = DebtorSegments(policy, end)
        params: dict[str, Any] = dict(creditor=creditor, end_date=end, start_at=period.start_at,
                                      end_at=period.end_at, touch_templates=sorted(cadence_steps(policy)))
        async with self._uow() as uow:
            versions = await self._version_case(uow.session, params)
        # Two chains at once: the per-debtor one (segment table, then the debtor and message
        # figures side by side) and the rest (debts by status, recovery over time, last touch).
        (debtor_rows, message_rows), (status_rows, time_rows, touch_rows) = await asyncio.gather(
            self._debtor_figures(segment, versions, dict(params)),
            self._portfolio_figures(policy, period, versions, dict(params)))
        results = assemble(creditor, policy, period, (self._message_costs, self._agent_cost),
                           debtor_rows, status_rows, message_rows, time_rows, touch_rows)
        results.portal = await self._portal(params)
        return results

    async def _portal(self, params: dict[str, Any]) -> dict[str, Any]:
        """The portal as a channel (``PORTAL_SQL``): one row."""
        async with self._uow() as uow:
            dialect = await self._begin(uow.session)
            row = (await uow.session.execute(self._sql(portal_statement(dialect), params))
                   ).mappings().one()
            await uow.rollback()
        return portal_figures(row)

    async def _begin(self, session: AsyncSession) -> str:
        dialect = dialect_of(session)
        if dialect == "postgresql":
            # The grouped joins are cheap but their estimates are not: PostgreSQL's JIT would
            # spend a second compiling them; and the per-debtor aggregates fit in memory.
            await session.execute(text("SET LOCAL jit = off"))
            await session.execute(text("SET LOCAL work_mem = '64MB'"))
            # A dashboard reads recent, cached pages: an index probe costs about a sequential
            # read (otherwise a period's few thousand payments are joined to their debts by a
            # scan of every debt).
            await session.execute(text("SET LOCAL random_page_cost = 1.1"))
        return dialect

    async def _debtor_figures(self, segment: DebtorSegments, versions: str, params: dict[str, Any]
                              ) -> tuple[list[Any], list[Any]]:
        """The per-contact segment table, then the debtor and message figures.

        PostgreSQL: the segment table is an unlogged table of this request, committed so that
        the message figures (one connection) and the debtor figures (another, which reads the
        period's payments into its temporary table while the segment table is being built)
        run side by side; dropped at the end. SQLite: one connection, temporary tables.
        """
        async with self._uow() as uow:
            session = uow.session
            dialect = await self._begin(session)
            if dialect != "postgresql":
                return await self._debtor_figures_here(session, segment, versions, params)
            seg = f"results_seg_{int(self._clock.now().timestamp())}_{secrets.token_hex(4)}"
            debtor_sql = debtor_statement(seg, dialect)
            seg_ready = asyncio.Event()
            debtor_rows = asyncio.ensure_future(self._debtor_rows(debtor_sql, params, seg_ready))
            try:
                await self._drop_stale(session)
                # Debts and first contacts both come in debtor order from their covering
                # indexes (ix_debts_creditor_debtor, ix_contacts_debtor_first): a streaming
                # group and merge beat hashing 200,000 numeric sums (about half the time).
                await self._planner(session, "off")
                await session.execute(self._sql(segment_table_sql(segment, dialect, seg), params))
                await self._planner(session, "on")
                await session.execute(text(f"ANALYZE {seg}"))
                await uow.commit()
                seg_ready.set()
                message_rows = await self._rows(MESSAGE_SQL.format(seg=seg, version=versions), params)
                return await debtor_rows, message_rows
            finally:
                if not debtor_rows.done():
                    debtor_rows.cancel()
                await asyncio.gather(debtor_rows, return_exceptions=True)
                await uow.rollback()
                await session.execute(text(f"DROP TABLE IF EXISTS {seg}"))
                await uow.commit()

    async def _debtor_figures_here(self, session: AsyncSession, segment: DebtorSegments, versions: str,
                                   params: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
        """SQLite: the same statements one after the other on one connection."""
        for table in ("results_seg", "results_paid"):
            await session.execute(text(f"DROP TABLE IF EXISTS temp.{table}"))
        await session.execute(self._sql(segment_table_sql(segment, "sqlite"), params))
        await session.execute(self._sql(PAID_TABLE_SQL.format(on_commit=""), params))
        await session.execute(text("ANALYZE temp"))
        debtor_rows = (await session.execute(self._sql(debtor_statement("results_seg", "sqlite"), params))
                       ).mappings().all()
        message_rows = (await session.execute(self._sql(
            MESSAGE_SQL.format(seg="results_seg", version=versions), params))).mappings().all()
        await session.rollback()
        return list(debtor_rows), list(message_rows)

    async def _debtor_rows(self, debtor_sql: str, params: Mapping[str, Any], seg_ready: asyncio.Event
                           ) -> list[Any]:
        """PostgreSQL: the period's payments with their debtor (a temporary table of this
        transaction), then, once the segment table is committed, the debtor figures."""
        async with self._uow() as uow:
            session = uow.session
            await self._begin(session)
            await session.execute(self._sql(PAID_TABLE_SQL.format(on_commit=" ON COMMIT DROP"), params))
            await session.execute(text("ANALYZE results_paid"))
            await seg_ready.wait()
            rows = list((await session.execute(self._sql(debtor_sql, params))).mappings().all())
            await uow.rollback()
        return rows

    async def _rows(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        async with self._uow() as uow:
            await self._begin(uow.session)
            rows = list((await uow.session.execute(self._sql(sql, params))).mappings().all())
            await uow.rollback()
        return rows

    async def _drop_stale(self, session: AsyncSession) -> None:
        """Drop the shared tables a dashboard left behind when its process died."""
        names = (await session.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE 'results%'"))).scalars().all()
        cutoff = self._clock.now().timestamp() - SHARED_TABLES_KEPT
        stale = [n for n in names if n.startswith(SHARED_PREFIXES)
                 and n.split("_")[2].isdigit() and int(n.split("_")[2]) < cutoff]
        if stale:
            await session.execute(text("DROP TABLE IF EXISTS " + ", ".join(stale)))
            await session.commit()
            await self._begin(session)

    async def _portfolio_figures(self, policy: Policy, period: Period, versions: str,
                                 params: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
        async with self._uow() as uow:
            session = uow.session
            dialect = await self._begin(session)
            status_rows = (await session.execute(self._sql(STATUS_SQL, params))).mappings().all()
            if dialect == "postgresql":
                day, params["zone"] = "date(p.paid_at AT TIME ZONE :zone)", policy.creditor.timezone
            else:  # SQLite keeps UTC: shift by the zone's offset at the start of the period
                offset = ZoneInfo(period.zone).utcoffset(period.start_at.replace(tzinfo=None)) or timedelta(0)
                day, params["shift"] = "date(p.paid_at, :shift)", f"{int(offset.total_seconds())} seconds"
            time_rows = (await session.execute(self._sql(OVER_TIME_SQL.format(day=day), params))
                         ).mappings().all()
            touch_rows = (await session.execute(self._sql(TOUCH_SQL.format(version=versions), params))
                          ).mappings().all()
            await uow.rollback()
        return list(status_rows), list(time_rows), list(touch_rows)

    @staticmethod
    async def _planner(session: AsyncSession, hashing: str) -> None:
        for setting in ("enable_hashagg", "enable_hashjoin", "enable_seqscan"):
            await session.execute(text(f"SET LOCAL {setting} = {hashing}"))

    @staticmethod
    def _sql(sql: str, params: Mapping[str, Any]) -> TextClause:
        binds = [bindparam(k, value=v, type_=UTCDateTime()) if isinstance(v, datetime)
                 else bindparam(k, value=v, expanding=True) if isinstance(v, list)
                 else bindparam(k, value=v) for k, v in params.items() if f":{k}" in sql]
        return text(sql).bindparams(*binds)

    async def _version_case(self, session: AsyncSession, params: dict[str, Any]) -> str:
        """``CASE`` naming the template version in force when each message was sent."""
        rows = (await session.execute(select(TemplateVersion.name, TemplateVersion.channel,
                                             TemplateVersion.version, TemplateVersion.created_at)
                                      .order_by(TemplateVersion.created_at.desc()))).all()
        branches = []
        for index, (name, channel, version, created_at) in enumerate(rows[:200]):
            params[f"tv{index}_name"], params[f"tv{index}_at"] = name, created_at
            params[f"tv{index}_label"] = f"v{version}"
            channel_cond = f" AND m.channel = :tv{index}_channel" if channel else ""
            if channel:
                params[f"tv{index}_channel"] = channel
            branches.append(f"WHEN m.template = :tv{index}_name{channel_cond} "
                            f"AND m.created_at >= :tv{index}_at THEN :tv{index}_label")
        return f"CASE {' '.join(branches)} ELSE 'file' END" if branches else "'file'"

