from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.negotiation.machine import (
    EVENT_TYPES,
    OFFER_REASONS,
    TRANSITIONS,
    Accept,
    AgreementReached,
    AlreadyAgreed,
    AskDiscount,
    AskInstallments,
    CounterOffered,
    Decision,
    Event,
    HandedOff,
    Hardship,
    NegotiationContext,
    NegotiationState,
    NothingToAccept,
    OfferMade,
    PayInFull,
    Propose,
    Refuse,
    Stage,
    decide,
)
from bot.negotiation.offers import Limits, Offer, offer_violations
from bot.negotiation.proposals import REASON_CODES, Proposal

from .strategies import TODAY, balances, limits_strategy, proposals

D = Decimal
BALANCE = D("10000.00")


@pytest.fixture
def ctx(standard_limits: Limits) -> NegotiationContext:
    return NegotiationContext(balance=BALANCE, today=TODAY, limits=standard_limits, max_rounds=4)


def run(
    events: list[Event], ctx: NegotiationContext, state: NegotiationState | None = None
) -> tuple[NegotiationState, list[Decision]]:
    state = state or NegotiationState()
    decisions: list[Decision] = []
    for event in events:
        state, decided = decide(state, event, ctx)
        decisions += decided
    return state, decisions


def describe(decision: Decision) -> str:
    """Compact text for table-driven expectations: 'offer:concession cash 9750.00'."""
    match decision:
        case OfferMade(offer=offer, reason=reason):
            return f"offer:{reason} {shape(offer)}"
        case CounterOffered(offer=offer, reasons=reasons):
            return f"counter:{','.join(reasons)} {shape(offer)}"
        case AgreementReached(offer=offer):
            return f"agreed {shape(offer)}"
        case AlreadyAgreed(offer=offer):
            return f"already_agreed {shape(offer)}"
        case HandedOff(reason=reason):
            return f"handed_off:{reason}"
        case NothingToAccept():
            return "nothing_to_accept"
    raise AssertionError(decision)


def shape(offer: Offer) -> str:
    kind = "cash" if offer.kind == "full_payment" else f"{offer.count}x"
    return f"{kind} {offer.total}"


@pytest.mark.parametrize(
    ("events", "expected", "stage"),
    [
        ([Accept()], ["nothing_to_accept"], Stage.OPEN),
        ([PayInFull(), Accept()], ["offer:pay_in_full cash 10000.00", "agreed cash 10000.00"],
         Stage.AGREED),
        (
            [Refuse(), Refuse(), Refuse(), Refuse(), Refuse(), Refuse()],
            [
                "offer:first_offer cash 10000.00",
                "offer:concession cash 9750.00",
                "offer:concession cash 9500.00",
                "offer:concession 2x 10049.75",  # discounts exhausted: switch to plans
                "offer:concession 3x 10132.45",
                "handed_off:max_rounds",
            ],
            Stage.HANDED_OFF,
        ),
        (
            [AskDiscount(), AskDiscount(), AskDiscount(), PayInFull(), Accept()],
            [
                "offer:first_offer cash 9750.00",
                "offer:concession cash 9500.00",
                "offer:discount_limit_reached cash 9500.00",
                "offer:pay_in_full cash 9500.00",  # a concession is never taken back
                "agreed cash 9500.00",
            ],
            Stage.AGREED,
        ),
        (
            [AskInstallments(), AskInstallments(), Refuse(), Accept()],
            [
                "offer:first_offer 2x 10049.75",
                "offer:concession 3x 10132.45",
                "offer:concession 4x 10223.33",
                "agreed 4x 10223.33",
            ],
            Stage.AGREED,
        ),
        (
            [AskInstallments(count=5), Accept()],
            ["offer:proposal_within_limits 5x 10317.46", "agreed 5x 10317.46"],
            Stage.AGREED,
        ),
        (
            [AskInstallments(count=12)],
            ["counter:installments_above_max 6x 10413.22"],
            Stage.OFFERED,
        ),
        (
            [Hardship(), Refuse(), Refuse()],
            [
                "offer:hardship 2x 10049.75",  # one step: the shortest plan first
                "offer:concession 3x 10132.45",
                "offer:concession 4x 10223.33",
            ],
            Stage.OFFERED,
        ),
        (
            [Propose(Proposal(installments=4, installment_amount=D(3000))), Accept()],
            ["offer:proposal_within_limits 4x 10223.33", "agreed 4x 10223.33"],
            Stage.AGREED,
        ),
        (
            [Propose(Proposal(discount_percent=D(20))), Accept()],
            ["counter:discount_above_max cash 9500.00", "agreed cash 9500.00"],
            Stage.AGREED,
        ),
        (
            [Propose(Proposal())],
            ["counter:not_understood cash 10000.00"],
            Stage.OFFERED,
        ),
        (
            [PayInFull(), Accept(), Refuse(), Accept()],
            [
                "offer:pay_in_full cash 10000.00",
                "agreed cash 10000.00",
                "already_agreed cash 10000.00",
                "already_agreed cash 10000.00",
            ],
            Stage.AGREED,
        ),
    ],
)
def test_negotiation_scenarios(
    ctx: NegotiationContext, events: list[Event], expected: list[str], stage: Stage
) -> None:
    state, decisions = run(events, ctx)
    assert [describe(decision) for decision in decisions] == expected
    assert state.stage == stage


def test_refusing_everything_with_generous_rounds_exhausts_the_limits(
    ctx: NegotiationContext,
) -> None:
    generous = NegotiationContext(ctx.balance, ctx.today, ctx.limits, max_rounds=50)
    state, decisions = run([Refuse()] * 9, generous)
    assert [describe(decision) for decision in decisions][-2:] == [
        "offer:concession 6x 10413.22",
        "handed_off:limits_exhausted",
    ]
    assert state.stage == Stage.HANDED_OFF
    assert decide(state, Accept(), generous) == (state, ())  # a human owns it now


def test_small_balance_never_gets_a_plan(ctx: NegotiationContext) -> None:
    small = NegotiationContext(D("300.00"), ctx.today, ctx.limits, ctx.max_rounds)
    _, decisions = run([AskInstallments(), Hardship()], small)
    assert [describe(decision) for decision in decisions] == [
        "offer:installments_unavailable cash 300.00",
        "offer:hardship cash 292.50",  # no plan fits: one discount step
    ]


def test_a_stale_offer_is_refreshed_before_agreeing(ctx: NegotiationContext) -> None:
    state, _ = run([PayInFull()], ctx)
    later = NegotiationContext(ctx.balance + D(50), ctx.today + timedelta(days=5), ctx.limits, 4)
    state, decisions = decide(state, Accept(), later)
    assert [describe(decision) for decision in decisions] == ["offer:offer_refreshed cash 10050.00"]
    assert state.stage == Stage.OFFERED
    state, decisions = decide(state, Accept(), later)
    assert isinstance(decisions[0], AgreementReached)
    assert decisions[0].offer.first_due_date == later.today + timedelta(days=3)


def test_state_survives_a_json_round_trip(ctx: NegotiationContext) -> None:
    state, _ = run([Refuse(), Refuse(), AskInstallments()], ctx)
    dumped = state.model_dump(mode="json")
    assert dumped["stage"] == "offered"
    assert NegotiationState.model_validate(dumped) == state


def test_every_stage_but_handed_off_handles_every_event() -> None:
    for stage in (Stage.OPEN, Stage.OFFERED, Stage.AGREED):
        for event in EVENT_TYPES:
            assert (stage, event) in TRANSITIONS
    assert not [key for key in TRANSITIONS if key[0] == Stage.HANDED_OFF]


events_strategy: st.SearchStrategy[Event] = st.one_of(
    st.just(PayInFull()),
    st.just(AskDiscount()),
    st.builds(AskInstallments, count=st.none() | st.integers(min_value=-1, max_value=30)),
    st.builds(Propose, proposal=proposals),
    st.just(Accept()),
    st.just(Refuse()),
    st.just(Hardship()),
)


@settings(max_examples=200, deadline=None)
@given(
    balance=balances,
    limits=limits_strategy,
    max_rounds=st.integers(min_value=1, max_value=8),
    events=st.lists(events_strategy, max_size=15),
)
def test_no_decision_ever_crosses_a_hard_limit(
    balance: Decimal, limits: Limits, max_rounds: int, events: list[Event]
) -> None:
    ctx = NegotiationContext(balance=balance, today=TODAY, limits=limits, max_rounds=max_rounds)
    state = NegotiationState()
    agreements = 0
    for event in events:
        before = state
        state, decisions = decide(state, event, ctx)
        assert state.rounds <= max_rounds + 1
        if before.stage == Stage.HANDED_OFF:
            assert (state, decisions) == (before, ())
        if before.stage == Stage.AGREED:
            assert state == before
        for decision in decisions:
            match decision:
                case OfferMade(offer=offer, reason=reason):
                    assert reason in OFFER_REASONS
                    assert offer_violations(offer, TODAY, limits) == ()
                    assert state.current_offer == offer
                case CounterOffered(offer=offer, reasons=reasons):
                    assert set(reasons) <= set(REASON_CODES)
                    assert offer_violations(offer, TODAY, limits) == ()
                case AgreementReached(offer=offer):
                    agreements += 1
                    assert before.stage == Stage.OFFERED
                    assert offer == before.current_offer
                    assert offer_violations(offer, TODAY, limits) == ()
                    assert offer.discount_percent <= limits.discount_max_percent
                    assert offer.count <= max(limits.installments_max, 1)
                    assert offer.first_due_date <= TODAY + timedelta(
                        days=limits.first_due_within_days
                    )
                    if offer.kind == "installments":
                        assert all(
                            item.amount >= limits.installment_min_amount
                            for item in offer.installments
                        )
                        assert offer.down_payment >= (
                            balance * limits.down_payment_min_percent / 100
                        )
                case HandedOff(reason=reason):
                    assert reason in {"max_rounds", "limits_exhausted"}
                    assert state.stage == Stage.HANDED_OFF
        assert NegotiationState.model_validate(state.model_dump(mode="json")) == state
    assert agreements <= 1
    hypothesis.event(f"final stage: {state.stage}, agreements: {agreements}")


@settings(max_examples=200, deadline=None)
@given(
    balance=balances,
    steps=st.lists(
        st.tuples(events_strategy, st.integers(min_value=0, max_value=6), limits_strategy),
        max_size=12,
    ),
)
def test_agreements_respect_the_limits_of_the_day_they_are_reached(
    balance: Decimal, steps: list[tuple[Event, int, Limits]]
) -> None:
    """Days pass and limits change between messages: stale offers are never agreed."""
    state, today = NegotiationState(), TODAY
    for event, days_later, limits in steps:
        today += timedelta(days=days_later)
        ctx = NegotiationContext(balance=balance, today=today, limits=limits, max_rounds=6)
        state, decisions = decide(state, event, ctx)
        for decision in decisions:
            if isinstance(decision, AgreementReached | OfferMade | CounterOffered):
                assert offer_violations(decision.offer, today, limits) == ()
