from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings

from bot.negotiation.ladder import ConcessionLadder, discount_steps
from bot.negotiation.offers import Limits, max_feasible_installments, offer_violations

from .strategies import TODAY, balances, limits_strategy

D = Decimal


@pytest.mark.parametrize(
    ("maximum", "step", "expected"),
    [
        ("5", "2.5", ["0", "2.5", "5"]),
        ("6", "2.5", ["0", "2.5", "5", "6"]),
        ("0", "2.5", ["0"]),
        ("1", "2.5", ["0", "1"]),
        ("15", "5", ["0", "5", "10", "15"]),
    ],
)
def test_discount_steps_end_exactly_at_the_maximum(
    standard_limits: Limits, maximum: str, step: str, expected: list[str]
) -> None:
    limits = standard_limits.model_copy(
        update={"discount_max_percent": D(maximum), "discount_step_percent": D(step)}
    )
    assert discount_steps(limits) == tuple(D(value) for value in expected)


def test_standard_ladder(standard_limits: Limits) -> None:
    ladder = ConcessionLadder(D("10000.00"), TODAY, standard_limits)
    steps = [(offer.kind, offer.discount_percent, offer.count) for offer in ladder.steps()]
    assert steps == [
        ("full_payment", D("0"), 1),
        ("full_payment", D("2.5"), 1),
        ("full_payment", D("5"), 1),
        *[("installments", D("0"), count) for count in range(2, 7)],
    ]
    assert ladder.first_offer.total == D("10000.00")


def test_next_steps_walk_the_ladder_and_stop_at_the_limits(standard_limits: Limits) -> None:
    ladder = ConcessionLadder(D("10000.00"), TODAY, standard_limits)
    discounts = []
    offer = ladder.next_discount(None)
    while offer is not None:
        discounts.append(offer.discount_percent)
        offer = ladder.next_discount(offer)
    assert discounts == [D("0"), D("2.5"), D("5")]
    counts = []
    offer = ladder.next_installments(None)
    while offer is not None:
        counts.append(offer.count)
        offer = ladder.next_installments(offer)
    assert counts == [2, 3, 4, 5, 6]


def test_small_balance_has_no_installment_rung(standard_limits: Limits) -> None:
    ladder = ConcessionLadder(D("700.00"), TODAY, standard_limits)
    assert not ladder.offers_installments
    assert ladder.next_installments(None) is None
    assert ladder.longest_plan is None


@settings(max_examples=200, deadline=None)
@given(balance=balances, limits=limits_strategy)
def test_every_rung_is_within_limits_and_concessions_only_grow(
    balance: Decimal, limits: Limits
) -> None:
    ladder = ConcessionLadder(balance, TODAY, limits)
    steps = ladder.steps()
    assert steps[0] == ladder.first_offer and steps[0].discount_percent == 0
    for offer in steps:
        assert offer_violations(offer, TODAY, limits) == ()
    full = [offer for offer in steps if offer.kind == "full_payment"]
    plans = [offer for offer in steps if offer.kind == "installments"]
    assert [offer.discount_percent for offer in full] == sorted(
        {offer.discount_percent for offer in full}
    )
    assert full[-1].discount_percent == limits.discount_max_percent
    assert [offer.count for offer in plans] == list(
        range(2, max_feasible_installments(balance, limits) + 1)
    )
    assert ladder.next_discount(full[-1]) is None
    if plans:
        assert ladder.next_installments(plans[-1]) is None
