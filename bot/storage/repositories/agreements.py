"""Offers put to debtors and the agreements (with installments) they accept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.storage.models import (
    ZERO,
    Agreement,
    AgreementStatus,
    CreatedBy,
    Debt,
    DebtStatus,
    Installment,
    Offer,
    OfferStatus,
)
from bot.storage.types import to_money


class OfferTerms(Protocol):
    """What :meth:`AgreementRepository.add_offer` reads from a domain offer."""

    @property
    def kind(self) -> str: ...
    @property
    def balance(self) -> Decimal: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def discount_percent(self) -> Decimal: ...
    @property
    def monthly_interest_percent(self) -> Decimal: ...
    @property
    def installments(self) -> Sequence[Any]: ...
    @property
    def created_by(self) -> str: ...


def installment_json(item: Mapping[str, Any] | Any) -> dict[str, Any]:
    """``{"number", "due_date", "amount"}`` as JSON-safe values from a mapping or object."""
    if isinstance(item, Mapping):
        number, due, amount = item["number"], item["due_date"], item["amount"]
    else:
        number, due, amount = item.number, item.due_date, item.amount
    due_date = due if isinstance(due, date) else date.fromisoformat(str(due))
    return {
        "number": int(number),
        "due_date": due_date.isoformat(),
        "amount": str(to_money(amount)),
    }


class AgreementRepository:
    """Offers put to debtors and the agreements (with installments) they accept."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_offer(
        self,
        *,
        conversation_id: int,
        debtor_id: int,
        offer: OfferTerms | None = None,
        kind: str | None = None,
        balance: Decimal | str | None = None,
        total: Decimal | str | None = None,
        installments: Sequence[Mapping[str, Any] | Any] | None = None,
        discount_percent: Decimal | str | None = None,
        monthly_interest_percent: Decimal | str | None = None,
        created_by: str | None = None,
        status: str = OfferStatus.PROPOSED,
    ) -> Offer:
        """Store an offer, from ``offer`` (a :class:`bot.negotiation.offers.Offer` or any
        object with its fields) and/or the keyword fields, which win over ``offer``'s.

        ``installments`` are mappings or objects with ``number``, ``due_date`` and
        ``amount``; a full payment is one installment. Percentages default to 0 and
        ``created_by`` to ``bot``.
        """

        def pick(name: str, given: Any, default: Any = None) -> Any:
            if given is not None:
                return given
            value = getattr(offer, name, None) if offer is not None else None
            if value is None and default is None:
                raise TypeError(f"add_offer() needs {name!r} (or an offer that has it)")
            return default if value is None else value

        plan = pick("installments", installments)
        if not plan:
            raise ValueError("an offer needs at least one installment (its payment date)")
        row = Offer(
            conversation_id=conversation_id,
            debtor_id=debtor_id,
            kind=str(pick("kind", kind)),
            balance=to_money(pick("balance", balance)),
            total=to_money(pick("total", total)),
            discount_percent=to_money(pick("discount_percent", discount_percent, ZERO)),
            monthly_interest_percent=to_money(
                pick("monthly_interest_percent", monthly_interest_percent, ZERO)
            ),
            installments=[installment_json(item) for item in plan],
            created_by=str(pick("created_by", created_by, CreatedBy.BOT)),
            status=str(status),
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def latest_offer(self, conversation_id: int, status: str | None = None) -> Offer | None:
        """The conversation's newest offer (optionally only one with ``status``)."""
        query = select(Offer).where(Offer.conversation_id == conversation_id)
        if status is not None:
            query = query.where(Offer.status == str(status))
        return await self.session.scalar(query.order_by(Offer.id.desc()).limit(1))

    async def mark_offers(self, conversation_id: int, from_status: str, to_status: str) -> int:
        """Move the conversation's offers in ``from_status`` to ``to_status``; how many."""
        result = await self.session.execute(
            update(Offer)
            .where(Offer.conversation_id == conversation_id, Offer.status == str(from_status))
            .values(status=str(to_status))
            .execution_options(synchronize_session="fetch")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def create_agreement(
        self,
        debtor_id: int,
        offer_row: Offer,
        debts: Sequence[Debt],
        created_by: str,
    ) -> Agreement:
        """An active agreement on ``offer_row``'s terms over ``debts``.

        Creates one installment row per installment of the offer, sets the debts'
        status to ``in_agreement`` and the offer's to ``accepted``.
        """
        if not offer_row.installments:
            raise ValueError(f"offer #{offer_row.id} has no installments")
        agreement = Agreement(
            debtor_id=debtor_id,
            offer_id=offer_row.id,
            kind=offer_row.kind,
            total=offer_row.total,
            discount_percent=offer_row.discount_percent,
            status=AgreementStatus.ACTIVE.value,
            created_by=str(created_by),
            installments=[
                Installment(
                    number=int(item["number"]),
                    due_date=date.fromisoformat(item["due_date"]),
                    amount=to_money(item["amount"]),
                )
                for item in offer_row.installments
            ],
            debts=list(debts),
        )
        for debt in debts:
            debt.status = DebtStatus.IN_AGREEMENT.value
        offer_row.status = OfferStatus.ACCEPTED.value
        self.session.add(agreement)
        await self.session.flush()
        return agreement

    async def agreements_for(self, debtor_id: int) -> list[Agreement]:
        """The debtor's agreements, oldest first, ``installments`` and ``debts`` loaded."""
        result = await self.session.scalars(
            select(Agreement)
            .options(selectinload(Agreement.installments), selectinload(Agreement.debts))
            .where(Agreement.debtor_id == debtor_id)
            .order_by(Agreement.id)
        )
        return list(result)

    async def set_agreement_status(self, agreement: Agreement, status: str) -> None:
        agreement.status = str(status)
        await self.session.flush()

    async def agreement_with_terms(self, agreement_id: int) -> Agreement | None:
        """The agreement with primary key ``agreement_id``, ``installments`` and ``debts`` loaded."""
        return await self.session.get(Agreement, agreement_id, options=[
            selectinload(Agreement.installments), selectinload(Agreement.debts)])
