"""Hypothesis strategies and sample data shared by the negotiation core tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import strategies as st

from bot.negotiation.offers import Limits
from bot.negotiation.proposals import Proposal
from bot.policies.models import NegotiationProfile

TODAY = date(2024, 5, 10)

STANDARD_PROFILE = NegotiationProfile(
    full_payment_discount_max_percent=Decimal("5"),
    installments_max=6,
    installment_min_amount=Decimal("500.00"),
    down_payment_min_percent=Decimal("10"),
    monthly_interest_percent=Decimal("1.0"),
    first_due_within_days=10,
    max_rounds=4,
)


def money(min_value: str = "0.01", max_value: str = "1000000.00") -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=Decimal(min_value), max_value=Decimal(max_value), places=2
    )


def percent(max_value: str, places: int = 1) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=Decimal("0"), max_value=Decimal(max_value), places=places)


balances = st.one_of(money("0.01", "2000.00"), money("0.01", "1000000.00"))

limits_strategy: st.SearchStrategy[Limits] = st.builds(
    Limits,
    discount_max_percent=st.one_of(st.just(Decimal("0")), percent("60")),
    installments_max=st.integers(min_value=1, max_value=24),
    installment_min_amount=st.one_of(st.just(Decimal("0")), money("0.01", "5000.00")),
    down_payment_min_percent=st.one_of(st.just(Decimal("100")), percent("80", places=0)),
    monthly_interest_percent=percent("10", places=2),
    first_due_within_days=st.integers(min_value=0, max_value=45),
    installment_interval_days=st.integers(min_value=1, max_value=60),
    discount_step_percent=st.decimals(
        min_value=Decimal("0.5"), max_value=Decimal("20"), places=1
    ),
)

days_ahead = st.integers(min_value=-5, max_value=60)

proposals: st.SearchStrategy[Proposal] = st.builds(
    Proposal,
    installments=st.none() | st.integers(min_value=0, max_value=40),
    installment_amount=st.none() | money("0.00", "50000.00"),
    down_payment=st.none() | money("0.00", "50000.00"),
    down_payment_percent=st.none() | percent("100", places=0),
    total=st.none() | money("0.00", "100000.00"),
    discount_percent=st.none() | percent("100", places=0),
    first_due_date=st.none() | days_ahead.map(lambda days: date.fromordinal(TODAY.toordinal() + days)),
)
