"""Money stays Decimal, datetimes stay aware, JSON stays plain: on both backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import AuditLog, PaymentRepository
from bot.storage.models import Debt, Payment
from bot.storage.types import json_safe, to_money

from . import factories

Reload = Callable[[], Awaitable[None]]


def test_to_money_rounds_to_cents_and_refuses_float() -> None:
    assert to_money("10.5") == Decimal("10.50")
    assert str(to_money(Decimal("0.1") + Decimal("0.2"))) == "0.30"
    with pytest.raises(TypeError):
        to_money(0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        to_money(Decimal("NaN"))


def test_json_safe_turns_decimals_dates_and_enums_into_strings() -> None:
    class Step(StrEnum):
        OFFER = "offer"

    value = {
        "amount": Decimal("1032.50"),
        "due": date(2026, 10, 1),
        "at": datetime(2026, 10, 1, 12, tzinfo=UTC),
        "step": Step.OFFER,
        "plan": ({"n": 1, "score": 0.93, "ok": True, "none": None},),
    }
    assert json_safe(value) == {
        "amount": "1032.50",
        "due": "2026-10-01",
        "at": "2026-10-01T12:00:00+00:00",
        "step": "offer",
        "plan": [{"n": 1, "score": 0.93, "ok": True, "none": None}],
    }
    with pytest.raises(TypeError):
        json_safe({"x": {1, 2}})


async def test_decimal_round_trip_is_exact(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    debts = [
        await factories.debt(session, owner, "NF-CENTS", "0.30"),
        await factories.debt(session, owner, "NF-BIG", "999999999999.99"),
        await factories.debt(session, owner, "NF-ODD", "1234567.89"),
    ]
    payments = PaymentRepository(session)
    await payments.record(debts[0], Decimal("0.10"), datetime(2026, 11, 26, 13, tzinfo=UTC))
    await payments.record(debts[0], Decimal("0.20"), datetime(2026, 11, 26, 14, tzinfo=UTC))
    await reload()

    stored = {d.external_id: d for d in await session.scalars(select(Debt))}
    assert stored["NF-CENTS"].paid_amount == Decimal("0.30")
    assert str(stored["NF-CENTS"].paid_amount) == "0.30"
    assert str(stored["NF-BIG"].amount) == "999999999999.99"
    assert str(stored["NF-ODD"].amount) == "1234567.89"
    assert all(type(d.amount) is Decimal for d in stored.values())
    assert stored["NF-CENTS"].status == "paid"
    assert await payments.total_paid(stored["NF-CENTS"].id) == Decimal("0.30")


async def test_aware_datetimes_come_back_aware_utc(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    debt = await factories.debt(session, owner)
    sao_paulo = timezone(timedelta(hours=-3))
    paid_at = datetime(2026, 10, 5, 23, 30, 15, 123456, tzinfo=sao_paulo)
    await PaymentRepository(session).record(debt, "100.00", paid_at)
    await reload()

    payment = await session.scalar(select(Payment))
    assert payment is not None
    assert payment.paid_at == paid_at
    assert payment.paid_at.tzinfo is not None
    assert payment.paid_at.utcoffset() == timedelta(0)
    assert payment.paid_at == datetime(2026, 10, 6, 2, 30, 15, 123456, tzinfo=UTC)
    assert payment.created_at.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(session: AsyncSession) -> None:
    owner = await factories.debtor(session)
    debt = await factories.debt(session, owner)
    with pytest.raises(StatementError, match="naive datetime"):
        await PaymentRepository(session).record(debt, "1.00", datetime(2026, 10, 5, 12))  # noqa: DTZ001
    await session.rollback()


async def test_json_columns_store_sql_null_and_plain_values(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    event = await AuditLog(session).record(
        "offer_made", "bot", debtor_id=owner.id, data={"total": Decimal("980.00")}
    )
    await reload()
    events = await AuditLog(session).for_debtor(owner.id)
    assert [e.data for e in events] == [{"total": "980.00"}]
    assert events[0].id == event.id
