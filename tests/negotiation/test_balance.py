from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.negotiation.balance import DebtPosition, balance_on, balance_parts, days_past_due
from bot.policies.models import LateCharges

from .strategies import money, percent

DUE = date(2024, 3, 1)
CHARGES = LateCharges(late_fee_percent=Decimal("2"), monthly_interest_percent=Decimal("1"))


@pytest.mark.parametrize(
    ("on", "expected"),
    [(date(2024, 2, 20), 0), (DUE, 0), (date(2024, 3, 2), 1), (date(2024, 3, 31), 30)],
)
def test_days_past_due(on: date, expected: int) -> None:
    assert days_past_due(DUE, on) == expected


@pytest.mark.parametrize(
    ("principal", "paid", "on", "expected"),
    [
        ("1000.00", "0", date(2024, 2, 1), "1000.00"),  # not yet due
        ("1000.00", "0", DUE, "1000.00"),  # due today: not overdue
        ("1000.00", "300.00", DUE, "700.00"),
        ("1000.00", "1500.00", DUE, "0.00"),  # overpaid: never below zero
        ("1000.00", "0", date(2024, 3, 2), "1020.33"),  # 2% fee + 1%/30 for 1 day
        ("1000.00", "0", date(2024, 3, 31), "1030.00"),  # 30 days: 2% + 1%
        ("1000.00", "0", date(2024, 5, 30), "1050.00"),  # 90 days: 2% + 3%
        ("1000.00", "50.00", date(2024, 5, 30), "1000.00"),
        ("333.33", "0", date(2024, 3, 11), "341.11"),  # 333.33 * (1 + .02 + .01/3)
    ],
)
def test_balance_on_examples(principal: str, paid: str, on: date, expected: str) -> None:
    debt = DebtPosition(
        external_id="NF-1", principal=Decimal(principal), due_date=DUE, paid=Decimal(paid)
    )
    assert balance_on(debt, on, CHARGES) == Decimal(expected)


@settings(max_examples=200)
@given(
    principal=money("0.01"),
    paid=money("0.00", "100000.00"),
    fee=percent("20"),
    interest=percent("15", places=2),
    start=st.integers(min_value=-60, max_value=2000),
    step=st.integers(min_value=0, max_value=400),
)
def test_balance_on_never_decreases_over_time(
    principal: Decimal, paid: Decimal, fee: Decimal, interest: Decimal, start: int, step: int
) -> None:
    debt = DebtPosition(external_id="x", principal=principal, due_date=DUE, paid=paid)
    charges = LateCharges(late_fee_percent=fee, monthly_interest_percent=interest)
    earlier = DUE + timedelta(days=start)
    later = earlier + timedelta(days=step)
    before, after = balance_on(debt, earlier, charges), balance_on(debt, later, charges)
    assert Decimal(0) <= before <= after
    assert before == before.quantize(Decimal("0.01"))
    if start <= 0:
        assert before == max(Decimal("0.00"), principal - paid)


def test_balance_parts_example() -> None:
    # R$ 7.350,00 due 06/11, on 26/11 (20 days): multa 2% = 147,00, juros 1% a.m. = 49,00.
    debt = DebtPosition(external_id="NF-1", principal=Decimal("7350.00"), due_date=date(2026, 11, 6))
    charges = LateCharges(late_fee_percent=Decimal("2"), monthly_interest_percent=Decimal("1"))
    parts = balance_parts(debt, date(2026, 11, 26), charges)
    assert (parts.principal, parts.late_fee, parts.interest, parts.total) == (
        Decimal("7350.00"), Decimal("147.00"), Decimal("49.00"), Decimal("7546.00"))
    assert parts.days_past_due == 20
    early = balance_parts(debt, date(2026, 11, 6), charges)
    assert (early.late_fee, early.interest, early.total) == (
        Decimal("0.00"), Decimal("0.00"), Decimal("7350.00"))


@settings(max_examples=200)
@given(
    principal=money("0.01"),
    paid=money("0.00", "100000.00"),
    fee=percent("20"),
    interest=percent("15", places=2),
    days=st.integers(min_value=-60, max_value=2000),
)
def test_balance_parts_add_up_to_the_balance(
    principal: Decimal, paid: Decimal, fee: Decimal, interest: Decimal, days: int
) -> None:
    debt = DebtPosition(external_id="x", principal=principal, due_date=DUE, paid=paid)
    charges = LateCharges(late_fee_percent=fee, monthly_interest_percent=interest)
    on = DUE + timedelta(days=days)
    parts = balance_parts(debt, on, charges)
    assert parts.total == balance_on(debt, on, charges)
    assert parts.late_fee >= 0 and parts.interest >= 0
    if parts.total > 0:
        assert parts.principal - parts.paid + parts.late_fee + parts.interest == parts.total
