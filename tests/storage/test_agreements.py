"""Offers, agreements and their installments."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import AgreementRepository, PortfolioRepository

from . import factories

Reload = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class PlannedInstallment:
    number: int
    due_date: date
    amount: Decimal


async def test_offers_latest_and_marking(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    _, conversation = await factories.conversation(session, owner)
    agreements = AgreementRepository(session)
    first = await agreements.add_offer(
        conversation_id=conversation.id,
        debtor_id=owner.id,
        kind="full_payment",
        balance="1032.50",
        total="980.88",
        discount_percent="5",
        installments=[{"number": 1, "due_date": "2026-10-10", "amount": "980.88"}],
    )
    assert await agreements.mark_offers(conversation.id, "proposed", "superseded") == 1
    second = await agreements.add_offer(
        conversation_id=conversation.id,
        debtor_id=owner.id,
        kind="installments",
        balance=Decimal("1032.50"),
        total=Decimal("1053.15"),
        monthly_interest_percent=Decimal("1.0"),
        created_by="agent",
        installments=[PlannedInstallment(n, date(2026, 9 + n, 10), Decimal("351.05")) for n in (1, 2, 3)],
    )
    await reload()

    latest = await agreements.latest_offer(conversation.id)
    assert latest is not None and latest.id == second.id
    assert (latest.kind, latest.status, latest.created_by) == ("installments", "proposed", "agent")
    assert latest.monthly_interest_percent == Decimal("1.00")
    assert latest.installments[0] == {"number": 1, "due_date": "2026-10-10", "amount": "351.05"}
    superseded = await agreements.latest_offer(conversation.id, status="superseded")
    assert superseded is not None and superseded.id == first.id
    assert superseded.discount_percent == Decimal("5.00")
    assert await agreements.latest_offer(conversation.id + 1000) is None
    with pytest.raises(ValueError):
        await agreements.add_offer(
            conversation_id=conversation.id,
            debtor_id=owner.id,
            kind="full_payment",
            balance="1",
            total="1",
            installments=[],
        )


async def test_agreement_with_installments(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    _, conversation = await factories.conversation(session, owner)
    debts = [await factories.debt(session, owner, f"NF-{n}", "600.00") for n in (1, 2)]
    spare = await factories.debt(session, owner, "NF-3", "50.00")
    agreements = AgreementRepository(session)
    offer = await agreements.add_offer(
        conversation_id=conversation.id,
        debtor_id=owner.id,
        kind="installments",
        balance="1200.00",
        total="1212.00",
        discount_percent="0",
        monthly_interest_percent="1.00",
        installments=[
            {"number": 1, "due_date": date(2026, 10, 10), "amount": Decimal("404.00")},
            {"number": 2, "due_date": date(2026, 11, 10), "amount": Decimal("404.00")},
            {"number": 3, "due_date": date(2026, 12, 10), "amount": Decimal("404.00")},
        ],
    )
    agreement = await agreements.create_agreement(owner.id, offer, debts, created_by="bot")
    assert [i.number for i in agreement.installments] == [1, 2, 3]
    await reload()

    [stored] = await agreements.agreements_for(owner.id)
    assert (stored.kind, stored.status, stored.created_by) == ("installments", "active", "bot")
    assert stored.total == Decimal("1212.00") and stored.offer_id == offer.id
    assert [(i.number, i.due_date, i.amount, i.paid_amount, i.status) for i in stored.installments] == [
        (1, date(2026, 10, 10), Decimal("404.00"), Decimal("0.00"), "open"),
        (2, date(2026, 11, 10), Decimal("404.00"), Decimal("0.00"), "open"),
        (3, date(2026, 12, 10), Decimal("404.00"), Decimal("0.00"), "open"),
    ]
    assert sum(i.amount for i in stored.installments) == stored.total
    assert [d.external_id for d in stored.debts] == ["NF-1", "NF-2"]
    portfolio = PortfolioRepository(session)
    assert {d.external_id: d.status for d in await portfolio.debts_for(owner.id)} == {
        "NF-1": "in_agreement",
        "NF-2": "in_agreement",
        "NF-3": "open",
    }
    assert [d.id for d in await portfolio.open_debts(owner.id)] == [spare.id]
    accepted = await agreements.latest_offer(conversation.id)
    assert accepted is not None and accepted.status == "accepted"

    await agreements.set_agreement_status(stored, "kept")
    await reload()
    assert [a.status for a in await agreements.agreements_for(owner.id)] == ["kept"]


@dataclass(frozen=True)
class Terms:
    """Shaped like bot.negotiation.offers.Offer."""

    kind: str
    balance: Decimal
    total: Decimal
    discount_percent: Decimal
    monthly_interest_percent: Decimal
    installments: tuple[PlannedInstallment, ...]
    created_by: str = "bot"


async def test_offer_from_domain_terms(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    _, conversation = await factories.conversation(session, owner)
    terms = Terms(
        kind="full_payment",
        balance=Decimal("1032.50"),
        total=Decimal("980.88"),
        discount_percent=Decimal("5.00"),
        monthly_interest_percent=Decimal("0"),
        installments=(PlannedInstallment(1, date(2026, 10, 10), Decimal("980.88")),),
    )
    agreements = AgreementRepository(session)
    await agreements.add_offer(conversation_id=conversation.id, debtor_id=owner.id, offer=terms)
    await agreements.add_offer(
        conversation_id=conversation.id, debtor_id=owner.id, offer=terms, created_by="agent"
    )
    await reload()
    offers = [await agreements.latest_offer(conversation.id, status="proposed")]
    assert offers[0] is not None
    assert (offers[0].kind, offers[0].total, offers[0].created_by) == (
        "full_payment",
        Decimal("980.88"),
        "agent",
    )
    assert offers[0].installments == [{"number": 1, "due_date": "2026-10-10", "amount": "980.88"}]
    with pytest.raises(TypeError, match="'kind'"):
        await agreements.add_offer(
            conversation_id=conversation.id,
            debtor_id=owner.id,
            balance="1",
            total="1",
            installments=[{"number": 1, "due_date": "2026-10-10", "amount": "1"}],
        )
