from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.negotiation.money import round_money
from bot.negotiation.offers import (
    Limits,
    full_payment_offer,
    installment_offer,
    offer_violations,
)
from bot.negotiation.proposals import REASON_CODES, Proposal, evaluate_proposal

from .strategies import TODAY, balances, limits_strategy, proposals

D = Decimal
BALANCE = D("10000.00")


DUE_LATE = TODAY + timedelta(days=20)
DUE_PAST = TODAY - timedelta(days=1)
P = Proposal


@pytest.mark.parametrize(
    ("proposal", "reasons", "plan"),
    [
        # "4x de 3000" covers the 4x plan: accepted at the plan's own price
        (P(installments=4, installment_amount=D(3000)), (), "4x 10223.33"),
        (P(installments=4, installment_amount=D("2555.83")), (), "4x 10223.33"),
        (P(installments=4, installment_amount=D(2000)), ("amount_below_balance",), "4x 10223.33"),
        (P(installments=10), ("installments_above_max",), "6x 10413.22"),
        (
            P(installments=6, installment_amount=D(400)),
            ("installment_below_min", "amount_below_balance"),
            "6x 10413.22",
        ),
        (P(installment_amount=D(1800)), (), "6x 10413.22"),
        (P(installment_amount=D(3500)), (), "3x 10132.45"),
        (P(installments=3, down_payment=D(500)), ("down_payment_below_min",), "3x 10180.00"),
        (P(installments=3, down_payment_percent=D(50)), (), "3x 10100.00"),
        (P(installments=3, discount_percent=D(5)), ("discount_above_max",), "3x 10132.45"),
        (P(installments=3, total=D(9000)), ("amount_below_balance",), "3x 10132.45"),
        (P(installments=3, first_due_date=DUE_LATE), ("first_due_too_late",), "3x 10132.45"),
        (P(discount_percent=D(5)), (), "cash 9500.00"),
        (P(discount_percent=D(10)), ("discount_above_max",), "cash 9500.00"),
        (P(total=D(9600)), (), "cash 9600.00"),
        (P(total=D("9583.33")), (), "cash 9583.33"),
        (P(total=D(12000)), (), "cash 10000.00"),
        (P(total=D(8000)), ("amount_below_balance",), "cash 9500.00"),
        (P(installments=1, installment_amount=D(9700)), (), "cash 9700.00"),
        (P(first_due_date=TODAY + timedelta(days=7)), (), "cash 10000.00"),
        (P(first_due_date=DUE_PAST), ("first_due_in_past",), "cash 10000.00"),
    ],
)
def test_evaluate_proposal_table(
    standard_limits: Limits, proposal: Proposal, reasons: tuple[str, ...], plan: str
) -> None:
    evaluation = evaluate_proposal(proposal, BALANCE, TODAY, standard_limits)
    assert (evaluation.accepted, evaluation.reasons) == (not reasons, reasons)
    offer = evaluation.offer
    assert offer is not None
    shape = "cash" if offer.kind == "full_payment" else f"{offer.count}x"
    assert f"{shape} {offer.total}" == plan
    assert offer_violations(offer, TODAY, standard_limits) == ()


def test_accepted_plan_is_exactly_the_plan_built_from_the_debtors_terms(
    standard_limits: Limits,
) -> None:
    first = TODAY + timedelta(days=8)
    proposal = Proposal(installments=5, down_payment=D(2000), first_due_date=first)
    evaluation = evaluate_proposal(proposal, BALANCE, TODAY, standard_limits)
    assert evaluation.accepted
    assert evaluation.offer == installment_offer(
        BALANCE, 5, TODAY, standard_limits, down_payment=D(2000), first_due_date=first
    )
    cash = evaluate_proposal(Proposal(discount_percent=D("2.5")), BALANCE, TODAY, standard_limits)
    assert cash.offer == full_payment_offer(BALANCE, D("2.5"), TODAY, standard_limits)


def test_late_first_due_date_is_moved_to_the_latest_allowed(standard_limits: Limits) -> None:
    late = Proposal(installments=2, first_due_date=TODAY + timedelta(days=40))
    evaluation = evaluate_proposal(late, BALANCE, TODAY, standard_limits)
    assert evaluation.offer is not None
    assert evaluation.offer.first_due_date == TODAY + timedelta(days=10)


@pytest.mark.parametrize(
    "proposal",
    [Proposal(), Proposal(installments=0), Proposal(total=D(-5)), Proposal(discount_percent=D(150))],
)
def test_empty_or_nonsense_proposals_are_not_understood(
    standard_limits: Limits, proposal: Proposal
) -> None:
    evaluation = evaluate_proposal(proposal, BALANCE, TODAY, standard_limits)
    assert evaluation == type(evaluation)(accepted=False, offer=None, reasons=("not_understood",))


def test_a_balance_below_the_minimum_gets_a_single_payment(standard_limits: Limits) -> None:
    evaluation = evaluate_proposal(Proposal(installments=3), D("300.00"), TODAY, standard_limits)
    assert not evaluation.accepted
    assert evaluation.reasons == ("installment_below_min",)
    assert evaluation.offer is not None
    assert (evaluation.offer.kind, evaluation.offer.total) == ("full_payment", D("300.00"))


@settings(max_examples=200, deadline=None)
@given(proposal=proposals, balance=balances, limits=limits_strategy)
def test_no_evaluated_offer_ever_crosses_a_hard_limit(
    proposal: Proposal, balance: Decimal, limits: Limits
) -> None:
    evaluation = evaluate_proposal(proposal, balance, TODAY, limits)
    assert set(evaluation.reasons) <= set(REASON_CODES)
    assert evaluation.accepted == (not evaluation.reasons)
    if evaluation.offer is None:
        assert evaluation.reasons == ("not_understood",)
        return
    offer = evaluation.offer
    assert offer_violations(offer, TODAY, limits) == ()
    assert sum((item.amount for item in offer.installments), D(0)) == offer.total
    if offer.kind == "installments":
        assert 2 <= offer.count <= limits.installments_max
        assert offer.total >= balance
        assert all(item.amount >= limits.installment_min_amount for item in offer.installments)
        assert offer.down_payment >= balance * limits.down_payment_min_percent / 100
    else:
        assert offer.discount_percent <= limits.discount_max_percent
    if (
        evaluation.accepted
        and offer.kind == "full_payment"
        and proposal.total is not None
        and not proposal.discount_percent
    ):
        assert offer.total == min(proposal.total, balance)  # the debtor's own amount


@settings(max_examples=200, deadline=None)
@given(balance=balances, limits=limits_strategy, data=st.data())
def test_a_cash_total_within_the_discount_is_accepted_as_said(
    balance: Decimal, limits: Limits, data: st.DataObject
) -> None:
    floor = round_money(balance * (100 - limits.discount_max_percent) / 100)
    total = data.draw(st.decimals(min_value=floor, max_value=balance, places=2))
    evaluation = evaluate_proposal(Proposal(total=total), balance, TODAY, limits)
    assert evaluation.accepted, evaluation.reasons
    assert evaluation.offer is not None and evaluation.offer.total == total
