from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.negotiation.money import round_money
from bot.negotiation.offers import (
    InfeasiblePlan,
    Limits,
    Offer,
    full_payment_offer,
    installment_offer,
    max_feasible_installments,
    offer_violations,
)
from bot.policies.models import AgentLimits

from .strategies import STANDARD_PROFILE, TODAY, balances, limits_strategy, money

D = Decimal


def assert_schedule_is_sound(offer: Offer) -> None:
    assert sum((item.amount for item in offer.installments), D(0)) == offer.total
    assert all(item.amount == round_money(item.amount) for item in offer.installments)
    assert [item.number for item in offer.installments] == list(range(1, offer.count + 1))


def test_limits_for_bot_copies_the_profile() -> None:
    limits = Limits.for_bot(STANDARD_PROFILE)
    assert limits.discount_max_percent == D("5")
    assert limits.installments_max == 6
    assert limits.installment_min_amount == D("500.00")
    assert limits.down_payment_min_percent == D("10")
    assert limits.first_due_within_days == 10
    assert limits.installment_interval_days == 30
    assert limits.discount_step_percent == D("2.5")


@pytest.mark.parametrize(
    ("agent", "discount", "count"),
    [
        (AgentLimits(full_payment_discount_max_percent=D("15"), installments_max=12), 15, 12),
        (AgentLimits(full_payment_discount_max_percent=D("1"), installments_max=2), 5, 6),
        (AgentLimits(), 5, 6),
    ],
)
def test_agent_limits_never_below_the_bot(agent: AgentLimits, discount: int, count: int) -> None:
    limits = Limits.for_agent(STANDARD_PROFILE, agent)
    assert limits.discount_max_percent == D(discount)
    assert limits.installments_max == count
    assert limits.installment_min_amount == D("500.00")


@pytest.mark.parametrize(
    ("discount", "total"), [("0", "10000.00"), ("2.5", "9750.00"), ("5", "9500.00")]
)
def test_full_payment_offer(standard_limits: Limits, discount: str, total: str) -> None:
    offer = full_payment_offer(D("10000.00"), D(discount), TODAY, standard_limits)
    assert offer.kind == "full_payment"
    assert offer.total == D(total) == offer.down_payment
    assert offer.count == 1
    assert offer.first_due_date == TODAY + timedelta(days=3)  # prompt: min(3, 10) days


def test_full_payment_is_due_today_when_the_policy_allows_no_delay(
    standard_limits: Limits,
) -> None:
    limits = standard_limits.model_copy(update={"first_due_within_days": 0})
    assert full_payment_offer(D("10.00"), D(0), TODAY, limits).first_due_date == TODAY


@pytest.mark.parametrize("discount", ["5.01", "-1"])
def test_full_payment_offer_refuses_discounts_outside_limits(
    standard_limits: Limits, discount: str
) -> None:
    with pytest.raises(ValueError):
        full_payment_offer(D("10000.00"), D(discount), TODAY, standard_limits)


def test_standard_six_installment_plan(standard_limits: Limits) -> None:
    offer = installment_offer(D("10000.00"), 6, TODAY, standard_limits)
    # months = 5; financed = 10000 - 1735.54; interest = 8264.46 * 1% * 5 = 413.22
    assert offer.total == D("10413.22")
    assert [item.amount for item in offer.installments] == [
        D("1735.54"), D("1735.53"), D("1735.53"), D("1735.53"), D("1735.53"), D("1735.56"),
    ]
    assert [item.due_date for item in offer.installments] == [
        TODAY + timedelta(days=3 + 30 * index) for index in range(6)
    ]
    assert offer.monthly_interest_percent == D("1.0")
    assert_schedule_is_sound(offer)


def test_plan_with_a_chosen_down_payment_and_date(standard_limits: Limits) -> None:
    first = TODAY + timedelta(days=10)
    offer = installment_offer(
        D("10000.00"), 3, TODAY, standard_limits, down_payment=D("4000"), first_due_date=first
    )
    # financed 6000 * 1% * 2 months = 120
    assert offer.total == D("10120.00")
    assert [item.amount for item in offer.installments] == [D("4000.00"), D("3060.00"), D("3060.00")]
    assert offer.first_due_date == first


def test_count_one_is_a_full_payment_without_discount(standard_limits: Limits) -> None:
    offer = installment_offer(D("800.00"), 1, TODAY, standard_limits)
    assert (offer.kind, offer.total, offer.discount_percent) == ("full_payment", D("800.00"), D(0))


@pytest.mark.parametrize(
    ("balance", "count", "kwargs", "reasons"),
    [
        ("10000.00", 7, {}, ("installments_above_max",)),
        ("2000.00", 6, {}, ("installment_below_min",)),
        ("10000.00", 3, {"down_payment": D("999.99")}, ("down_payment_below_min",)),
        ("10000.00", 3, {"down_payment": D("10000.00")}, ("down_payment_above_balance",)),
        ("10000.00", 3, {"down_payment": D("9500.00")}, ("installment_below_min",)),
        ("10000.00", 3, {"first_due_date": TODAY + timedelta(days=11)}, ("first_due_too_late",)),
        ("10000.00", 3, {"first_due_date": TODAY - timedelta(days=1)}, ("first_due_in_past",)),
        (
            "10000.00",
            8,
            {"first_due_date": TODAY + timedelta(days=30), "down_payment": D("10")},
            ("installments_above_max", "first_due_too_late", "down_payment_below_min"),
        ),
    ],
)
def test_infeasible_plans_name_every_reason(
    standard_limits: Limits,
    balance: str,
    count: int,
    kwargs: dict[str, object],
    reasons: tuple[str, ...],
) -> None:
    with pytest.raises(InfeasiblePlan) as caught:
        installment_offer(D(balance), count, TODAY, standard_limits, **kwargs)  # type: ignore[arg-type]
    assert caught.value.reasons == reasons


@pytest.mark.parametrize(
    ("balance", "expected"),
    [
        ("10000.00", 6),
        ("2000.00", 4),  # interest lifts 4 x ~500 over the minimum
        ("1490.00", 3),
        ("996.00", 2),
        ("995.00", 1),
        ("499.99", 1),
    ],
)
def test_max_feasible_installments(standard_limits: Limits, balance: str, expected: int) -> None:
    assert max_feasible_installments(D(balance), standard_limits) == expected


def test_a_balance_below_the_minimum_is_settled_in_one_payment(standard_limits: Limits) -> None:
    """Edge case: no plan can respect installment_min_amount, so one payment settles it."""
    balance = D("120.00")
    assert max_feasible_installments(balance, standard_limits) == 1
    with pytest.raises(InfeasiblePlan):
        installment_offer(balance, 2, TODAY, standard_limits)
    offer = full_payment_offer(balance, D(0), TODAY, standard_limits)
    assert offer.total == balance and offer_violations(offer, TODAY, standard_limits) == ()


def test_offer_survives_a_json_round_trip(standard_limits: Limits) -> None:
    offer = installment_offer(D("10000.00"), 4, TODAY, standard_limits)
    dumped = offer.model_dump(mode="json")
    assert dumped["total"] == "10223.33"
    assert Offer.model_validate(dumped) == offer


def test_offer_rejects_a_schedule_that_does_not_sum(standard_limits: Limits) -> None:
    dumped = installment_offer(D("10000.00"), 4, TODAY, standard_limits).model_dump(mode="json")
    dumped["total"] = "10000.00"
    with pytest.raises(ValueError, match="sum exactly"):
        Offer.model_validate(dumped)


@settings(max_examples=200, deadline=None)
@given(
    balance=balances,
    limits=limits_strategy,
    count=st.integers(min_value=1, max_value=30),
    down_payment=st.none() | money("0.00", "100000.00"),
    first_due=st.none() | st.integers(min_value=-3, max_value=50),
)
def test_installment_offer_is_within_limits_or_infeasible(
    balance: Decimal,
    limits: Limits,
    count: int,
    down_payment: Decimal | None,
    first_due: int | None,
) -> None:
    first_due_date = None if first_due is None else TODAY + timedelta(days=first_due)
    try:
        offer = installment_offer(
            balance, count, TODAY, limits, down_payment=down_payment, first_due_date=first_due_date
        )
    except InfeasiblePlan as infeasible:
        assert infeasible.reasons
        return
    assert offer_violations(offer, TODAY, limits) == ()
    assert offer.count == count
    assert_schedule_is_sound(offer)
    assert offer.total >= balance
    if count > 1:
        assert offer.down_payment >= balance * limits.down_payment_min_percent / 100
        assert all(item.amount >= limits.installment_min_amount for item in offer.installments)
        gaps = {
            (later.due_date - earlier.due_date).days
            for earlier, later in zip(offer.installments, offer.installments[1:], strict=False)
        }
        assert gaps == {limits.installment_interval_days}
    assert offer.first_due_date <= TODAY + timedelta(days=limits.first_due_within_days)


@settings(max_examples=200, deadline=None)
@given(balance=balances, limits=limits_strategy)
def test_max_feasible_installments_is_the_largest_feasible_count(
    balance: Decimal, limits: Limits
) -> None:
    count = max_feasible_installments(balance, limits)
    assert 1 <= count <= limits.installments_max
    offer = installment_offer(balance, count, TODAY, limits)
    assert offer_violations(offer, TODAY, limits) == ()
    if count < limits.installments_max:
        with pytest.raises(InfeasiblePlan):
            installment_offer(balance, count + 1, TODAY, limits)
    if balance < limits.installment_min_amount:
        assert count == 1


@settings(max_examples=200, deadline=None)
@given(balance=balances, limits=limits_strategy, data=st.data())
def test_full_payment_offer_respects_the_discount_limit(
    balance: Decimal, limits: Limits, data: st.DataObject
) -> None:
    discount = data.draw(
        st.decimals(min_value=Decimal(0), max_value=limits.discount_max_percent, places=2)
    )
    offer = full_payment_offer(balance, discount, TODAY, limits)
    assert offer_violations(offer, TODAY, limits) == ()
    assert offer.total == round_money(balance * (100 - discount) / 100)
    assert offer.first_due_date == TODAY + timedelta(days=min(3, limits.first_due_within_days))
    assert isinstance(offer.first_due_date, date)
