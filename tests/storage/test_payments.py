"""Payments update balances and statuses; the audit log keeps who did what."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import AuditLog, PaymentRepository, PortfolioRepository
from bot.storage.models import Debt

from . import factories

Reload = Callable[[], Awaitable[None]]
PAID_AT = datetime(2026, 10, 3, 15, 0, tzinfo=UTC)


async def stored_debt(session: AsyncSession, external_id: str) -> Debt:
    debt = await PortfolioRepository(session).get_debt(external_id)
    assert debt is not None
    return debt


async def test_payments_update_balance_and_status(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    debt = await factories.debt(session, owner, "NF-1", "1000.00")
    payments = PaymentRepository(session)
    await payments.record(debt, Decimal("400.00"), PAID_AT, reference="TED-1")
    assert (debt.paid_amount, debt.status) == (Decimal("400.00"), "open")
    await reload()

    debt = await stored_debt(session, "NF-1")
    assert (debt.paid_amount, debt.unpaid_amount) == (Decimal("400.00"), Decimal("600.00"))
    await payments.record(debt, "600.00", PAID_AT, reference="PIX-2")
    await reload()

    debt = await stored_debt(session, "NF-1")
    assert (debt.paid_amount, debt.unpaid_amount, debt.status) == (
        Decimal("1000.00"),
        Decimal("0.00"),
        "paid",
    )
    assert [p.reference for p in await payments.for_debt(debt.id)] == ["TED-1", "PIX-2"]
    assert await payments.total_paid(debt.id) == Decimal("1000.00")


async def test_same_reference_is_recorded_once(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    debt = await factories.debt(session, owner, "NF-1", "1000.00")
    payments = PaymentRepository(session)
    first = await payments.record(debt, "250.00", PAID_AT, reference="BANK-77")
    await reload()
    debt = await stored_debt(session, "NF-1")
    again = await payments.record(debt, "250.00", PAID_AT, reference="BANK-77")
    assert again.id == first.id
    # without a reference every call is a payment
    await payments.record(debt, "1.00", PAID_AT)
    await payments.record(debt, "1.00", PAID_AT)
    await reload()
    debt = await stored_debt(session, "NF-1")
    assert debt.paid_amount == Decimal("252.00")
    assert len(await payments.for_debt(debt.id)) == 3


async def test_overpayment_and_invalid_amounts(session: AsyncSession) -> None:
    owner = await factories.debtor(session)
    debt = await factories.debt(session, owner, "NF-1", "100.00")
    payments = PaymentRepository(session)
    await payments.record(debt, "150.00", PAID_AT)
    assert (debt.status, debt.unpaid_amount) == ("paid", Decimal("0.00"))
    for bad in ("0", "-5.00"):
        with pytest.raises(ValueError):
            await payments.record(debt, bad, PAID_AT)
    with pytest.raises(TypeError):
        await payments.record(debt, 10.5, PAID_AT)  # type: ignore[arg-type]


async def test_audit_log(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    other = await factories.debtor(session, "D-2")
    _, conversation = await factories.conversation(session, owner)
    audit = AuditLog(session)
    await audit.record(
        "handoff", "bot", debtor_id=owner.id, conversation_id=conversation.id, data={"reason": "dispute_debt"}
    )
    await audit.record(
        "payment_recorded",
        "agent:maria",
        debtor_id=owner.id,
        data={"amount": Decimal("10.00"), "paid_at": PAID_AT},
    )
    await audit.record("import", "admin", debtor_id=other.id)
    await audit.record("startup", "system")
    await reload()

    events = await audit.for_debtor(owner.id)
    assert [(e.kind, e.actor) for e in events] == [
        ("handoff", "bot"),
        ("payment_recorded", "agent:maria"),
    ]
    assert events[0].conversation_id == conversation.id
    assert events[1].data == {"amount": "10.00", "paid_at": "2026-10-03T15:00:00+00:00"}
    assert events[0].at.tzinfo is not None
    assert [e.data for e in await audit.for_debtor(other.id)] == [{}]
