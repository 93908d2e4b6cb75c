"""Creditors, debtors, their contacts and debts: what a portfolio import brings."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from bot.storage.dialect import is_postgresql
from bot.storage.models import (
    Contact,
    Creditor,
    Debt,
    Debtor,
    DebtStatus,
)
from bot.storage.repositories.errors import AmbiguousDebt, AmbiguousDebtor, ContactConflict, DebtConflict
from bot.storage.types import to_money

# Debts still being collected: while a debtor has one, a pending promise stays pending.
COLLECTED = (DebtStatus.OPEN.value, DebtStatus.IN_AGREEMENT.value, DebtStatus.DISPUTED.value)


class PortfolioRepository:
    """Creditors, debtors, their contacts and debts (what a portfolio import brings)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_creditor(self, id: str, name: str, tax_id: str) -> Creditor:
        creditor = await self.session.get(Creditor, id)
        if creditor is None:
            creditor = Creditor(id=id, name=name, tax_id=tax_id)
            self.session.add(creditor)
        else:
            creditor.name, creditor.tax_id = name, tax_id
        await self.session.flush()
        return creditor

    async def upsert_debtor(
        self,
        creditor_id: str,
        external_id: str,
        name: str,
        tax_id: str | None,
        timezone: str,
        locale: str,
    ) -> Debtor:
        """Insert or update the debtor ``external_id`` of ``creditor_id``."""
        debtor = await self.session.scalar(
            select(Debtor).where(Debtor.creditor_id == creditor_id, Debtor.external_id == external_id)
        )
        if debtor is None:
            debtor = Debtor(creditor_id=creditor_id, external_id=external_id)
            self.session.add(debtor)
        debtor.name, debtor.tax_id = name, tax_id
        debtor.timezone, debtor.locale = timezone, locale
        await self.session.flush()
        return debtor

    async def upsert_contact(
        self,
        debtor: Debtor,
        name: str,
        channel: str,
        address: str,
        locale: str | None = None,
        timezone: str | None = None,
    ) -> Contact:
        """Insert or update a contact; its ``status`` (an opt-out, say) is kept.

        Raises :class:`ContactConflict` when (channel, address) belongs to another debtor.
        """
        contact = await self.session.scalar(
            select(Contact).where(Contact.channel == channel, Contact.address == address)
        )
        if contact is None:
            contact = Contact(debtor_id=debtor.id, channel=channel, address=address)
            self.session.add(contact)
        elif contact.debtor_id != debtor.id:
            raise ContactConflict(channel, address, contact.debtor_id)
        contact.name, contact.locale, contact.timezone = name, locale, timezone
        await self.session.flush()
        return contact

    async def upsert_debt(
        self,
        debtor: Debtor,
        external_id: str,
        amount: Decimal | str,
        currency: str,
        due_date: date,
        description: str = "",
    ) -> Debt:
        """Insert or update a debt by external id; ``paid_amount`` and ``status`` are kept.

        Raises :class:`DebtConflict` when the creditor's debt belongs to another debtor (a
        debt never changes debtor).
        """
        debt = await self.session.scalar(
            select(Debt).where(Debt.creditor_id == debtor.creditor_id, Debt.external_id == external_id)
        )
        if debt is None:
            debt = Debt(creditor_id=debtor.creditor_id, external_id=external_id, debtor_id=debtor.id)
            self.session.add(debt)
        elif debt.debtor_id != debtor.id:
            raise DebtConflict(external_id, debt.debtor_id)
        debt.amount, debt.currency = to_money(amount), currency
        debt.due_date, debt.description = due_date, description
        await self.session.flush()
        return debt

    async def find_contact(self, channel: str, address: str) -> Contact | None:
        """The contact at (channel, address), its ``debtor`` loaded."""
        return await self.session.scalar(
            select(Contact)
            .options(joinedload(Contact.debtor))
            .where(Contact.channel == channel, Contact.address == address)
        )

    async def contacts_for(self, debtor_id: int) -> list[Contact]:
        result = await self.session.scalars(
            select(Contact).where(Contact.debtor_id == debtor_id).order_by(Contact.id)
        )
        return list(result)

    async def get_debtor(self, external_id: str, creditor_id: str | None = None) -> Debtor | None:
        """The debtor with ``external_id``, its ``creditor``, ``contacts`` and ``debts`` loaded.

        Without ``creditor_id``, an id used by several creditors raises
        :class:`AmbiguousDebtor`.
        """
        query = (
            select(Debtor)
            .options(
                joinedload(Debtor.creditor),
                selectinload(Debtor.contacts),
                selectinload(Debtor.debts),
            )
            .where(Debtor.external_id == external_id)
        )
        if creditor_id is not None:
            query = query.where(Debtor.creditor_id == creditor_id)
        debtors = list((await self.session.scalars(query)).unique())
        if len(debtors) > 1:
            raise AmbiguousDebtor("debtor", external_id, [d.creditor_id for d in debtors])
        return debtors[0] if debtors else None

    async def debtor_by_id(self, debtor_id: int) -> Debtor | None:
        """The debtor with primary key ``debtor_id``, loaded like :meth:`get_debtor`."""
        return await self.session.scalar(
            select(Debtor)
            .options(
                joinedload(Debtor.creditor),
                selectinload(Debtor.contacts),
                selectinload(Debtor.debts),
            )
            .where(Debtor.id == debtor_id)
        )

    async def debts_for(self, debtor_id: int, statuses: Iterable[str] | None = None) -> list[Debt]:
        """The debtor's debts (all, or those in ``statuses``), oldest due date first."""
        query = select(Debt).where(Debt.debtor_id == debtor_id)
        if statuses is not None:
            query = query.where(Debt.status.in_([str(status) for status in statuses]))
        result = await self.session.scalars(query.order_by(Debt.due_date, Debt.id))
        return list(result)

    async def open_debts(self, debtor_id: int) -> list[Debt]:
        """Debts still open to negotiation: status ``open`` only.

        Debts ``in_agreement`` are already settled by an agreement, ``disputed`` ones
        wait for a human, ``paid`` ones are done; use :meth:`debts_for` for those.
        """
        return await self.debts_for(debtor_id, [DebtStatus.OPEN])

    async def get_debt(self, external_id: str, creditor_id: str | None = None) -> Debt | None:
        """The debt with ``external_id``, its ``debtor`` loaded.

        Without ``creditor_id``, an id used by several creditors raises :class:`AmbiguousDebt`.
        """
        query = select(Debt).options(joinedload(Debt.debtor)).where(Debt.external_id == external_id)
        if creditor_id is not None:
            query = query.where(Debt.creditor_id == creditor_id)
        debts = list(await self.session.scalars(query))
        if len(debts) > 1:
            raise AmbiguousDebt("debt", external_id, [d.creditor_id for d in debts])
        return debts[0] if debts else None

    async def debt_to_change(self, external_id: str, creditor_id: str) -> Debt | None:
        """The creditor's debt ``external_id``, locked on PostgreSQL for the rest of the
        transaction (a payment settling it meanwhile is seen)."""
        query = select(Debt).where(Debt.external_id == external_id, Debt.creditor_id == creditor_id)
        if is_postgresql(self.session):
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def debt_with_debtor(self, debt_id: int) -> Debt | None:
        """The debt with primary key ``debt_id`` as stored now, its ``debtor`` loaded."""
        return await self.session.get(Debt, debt_id, options=[selectinload(Debt.debtor)],
                                      populate_existing=True)

    async def debtor_with_contacts(self, debtor_id: int) -> Debtor | None:
        """The debtor with primary key ``debtor_id``, its ``contacts`` loaded."""
        return await self.session.get(Debtor, debtor_id, options=[selectinload(Debtor.contacts)])

    async def collects_other_debt(self, debtor_id: int, debt_id: int) -> bool:
        """Whether a debt of the debtor other than ``debt_id`` is still being collected."""
        found = await self.session.scalar(select(Debt.id).where(
            Debt.debtor_id == debtor_id, Debt.id != debt_id,
            Debt.status.in_(COLLECTED), Debt.paid_amount < Debt.amount).limit(1))
        return found is not None

    async def debts_by_id(self, ids: Collection[int]) -> dict[int, Debt]:
        """The debts with these primary keys, by id."""
        return {d.id: d for d in await self.session.scalars(select(Debt).where(Debt.id.in_(ids)))}

    async def debtors_by_id(self, ids: Collection[int]) -> dict[int, Debtor]:
        """The debtors with these primary keys, by id."""
        return {d.id: d for d in await self.session.scalars(select(Debtor).where(Debtor.id.in_(ids)))}

    async def contacts_by_id(self, ids: Collection[int]) -> dict[int, Contact]:
        """The contacts with these primary keys, by id."""
        return {c.id: c for c in await self.session.scalars(select(Contact).where(Contact.id.in_(ids)))}
