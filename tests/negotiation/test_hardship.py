"""The hardship path: one step at a time, the policy's hardship extensions and nothing more."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.negotiation.machine import (
    Accept,
    AgreementReached,
    AskDiscount,
    AskInstallments,
    CounterOffered,
    Decision,
    Event,
    Hardship,
    NegotiationContext,
    NegotiationState,
    OfferMade,
    PayInFull,
    Propose,
    Refuse,
    decide,
)
from bot.negotiation.money import percent_of, round_money
from bot.negotiation.offers import Limits, Offer, offer_violations
from bot.policies.models import Hardship as HardshipPolicy
from bot.policies.models import NegotiationProfile

from .strategies import STANDARD_PROFILE, TODAY, balances, percent, proposals

D = Decimal
BALANCE = D("10000.00")
GENEROUS = HardshipPolicy(first_installment_deferral_days=30, max_installments=12)

profiles = st.builds(
    NegotiationProfile,
    full_payment_discount_max_percent=st.one_of(st.just(D("0")), percent("60")),
    installments_max=st.integers(min_value=1, max_value=24),
    installment_min_amount=st.one_of(st.just(D("0.00")),
                                     st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)),
    down_payment_min_percent=st.one_of(st.just(D("100")), percent("80", places=0)),
    monthly_interest_percent=percent("10", places=2),
    first_due_within_days=st.integers(min_value=0, max_value=45),
    max_rounds=st.integers(min_value=1, max_value=8),
    installment_interval_days=st.integers(min_value=1, max_value=60),
)
hardship_policies = st.builds(
    HardshipPolicy,
    first_installment_deferral_days=st.integers(min_value=0, max_value=90),
    max_installments=st.none() | st.integers(min_value=1, max_value=48),
)
events = st.one_of(
    st.just(PayInFull()), st.just(AskDiscount()),
    st.builds(AskInstallments, count=st.none() | st.integers(min_value=-1, max_value=60)),
    st.builds(Propose, proposal=proposals), st.just(Accept()), st.just(Refuse()),
    st.just(Hardship()),
)


def context(profile: NegotiationProfile, policy: HardshipPolicy, balance: Decimal = BALANCE
            ) -> NegotiationContext:
    return NegotiationContext(balance=balance, today=TODAY, limits=Limits.for_bot(profile),
                              max_rounds=profile.max_rounds,
                              hardship_limits=Limits.for_hardship(profile, policy))


def offered(decisions: tuple[Decision, ...]) -> list[Offer]:
    return [d.offer for d in decisions if isinstance(d, OfferMade | CounterOffered | AgreementReached)]


def test_each_hardship_statement_concedes_one_step() -> None:
    ctx = context(STANDARD_PROFILE, HardshipPolicy())
    state = NegotiationState()
    counts = []
    for _ in range(5):
        state, decisions = decide(state, Hardship(), ctx)
        counts += [offer.count for offer in offered(decisions)]
    assert counts == [2, 3, 4, 5]  # the fifth statement passes max_rounds (4): a person
    assert state.hardship and state.stage == "handed_off"


def test_hardship_after_an_offer_moves_one_step_from_it() -> None:
    ctx = context(STANDARD_PROFILE, HardshipPolicy())
    state, _ = decide(NegotiationState(), AskInstallments(count=4), ctx)
    state, decisions = decide(state, Hardship(), ctx)
    assert [offer.count for offer in offered(decisions)] == [5]


def test_a_policy_without_hardship_keys_changes_no_limit() -> None:
    assert Limits.for_hardship(STANDARD_PROFILE, HardshipPolicy()) == Limits.for_bot(STANDARD_PROFILE)


def test_the_hardship_path_goes_past_the_normal_maximum_and_defers_the_first_payment() -> None:
    ctx = context(STANDARD_PROFILE, GENEROUS)
    generous = NegotiationContext(ctx.balance, ctx.today, ctx.limits, 50, ctx.hardship_limits)
    state, counts = NegotiationState(), []
    for _ in range(12):
        state, decisions = decide(state, Hardship(), generous)
        for offer in offered(decisions):
            counts.append(offer.count)
            assert offer.first_due_date == TODAY + timedelta(days=30)
    assert counts == list(range(2, 13))  # then nothing is left: a person takes over
    assert state.stage == "handed_off"


def test_the_normal_path_refuses_the_hardship_extensions() -> None:
    ctx = context(STANDARD_PROFILE, GENEROUS)
    _, decisions = decide(NegotiationState(), AskInstallments(count=10), ctx)
    assert [offer.count for offer in offered(decisions)] == [6]  # counter-offer at the normal max
    state, _ = decide(NegotiationState(), Hardship(), ctx)
    _, decisions = decide(state, AskInstallments(count=10), ctx)
    assert [offer.count for offer in offered(decisions)] == [10]  # within the hardship max


@settings(max_examples=150, deadline=None)
@given(balance=balances, profile=profiles, policy=hardship_policies,
       script=st.lists(events, max_size=14))
def test_offers_stay_within_the_limits_of_their_path(
    balance: Decimal, profile: NegotiationProfile, policy: HardshipPolicy, script: list[Event]
) -> None:
    """Hardship offers never pass the policy's hardship maximum and deferral, nor go below
    any floor; offers off the hardship path never use a hardship extension."""
    ctx = context(profile, policy, balance)
    normal, hardship = ctx.limits, ctx.hardship_limits
    assert hardship is not None
    longest = max(profile.installments_max, policy.max_installments or 0)
    latest = TODAY + timedelta(days=max(profile.first_due_within_days,
                                        policy.first_installment_deferral_days))
    state = NegotiationState()
    for event in script:
        state, decisions = decide(state, event, ctx)
        for offer in offered(decisions):
            if state.hardship:
                assert offer_violations(offer, TODAY, hardship) == ()
                assert offer.count <= longest
                assert offer.first_due_date <= latest
            else:
                assert offer_violations(offer, TODAY, normal) == ()
                assert offer.count <= profile.installments_max
                assert offer.first_due_date <= TODAY + timedelta(days=profile.first_due_within_days)
            floor = round_money(percent_of(balance, 100 - profile.full_payment_discount_max_percent))
            assert offer.total >= floor
            assert offer.discount_percent <= profile.full_payment_discount_max_percent
            if offer.kind == "installments":
                assert min(i.amount for i in offer.installments) >= profile.installment_min_amount
                assert offer.down_payment >= balance * profile.down_payment_min_percent / 100
