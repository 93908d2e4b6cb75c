"""Promise horizons and offer references."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.negotiation.offers import Limits, full_payment_offer
from bot.negotiation.promises import PromiseDate, check_promise_date, latest_promise_date

TODAY = date(2026, 12, 7)


@pytest.mark.parametrize(("when", "expected"), [
    (date(2026, 12, 6), PromiseDate.PAST), (TODAY, PromiseDate.OK), (date(2027, 1, 6), PromiseDate.OK),
    (date(2027, 1, 7), PromiseDate.TOO_FAR), (date(9999, 12, 31), PromiseDate.TOO_FAR),
])
def test_promise_horizon(when: date, expected: PromiseDate) -> None:
    assert latest_promise_date(TODAY, 30) == date(2027, 1, 6)
    assert check_promise_date(when, TODAY, 30) == expected


def test_offer_reference_names_the_terms(standard_limits: Limits) -> None:
    first = full_payment_offer(Decimal("1000.00"), Decimal("0"), TODAY, standard_limits)
    again = full_payment_offer(Decimal("1000.00"), Decimal("0"), TODAY, standard_limits)
    discounted = full_payment_offer(Decimal("1000.00"), Decimal("5"), TODAY, standard_limits)
    assert first.reference == again.reference and len(first.reference) == 12
    assert discounted.reference != first.reference
    assert first.model_copy(update={"created_by": "agent"}).reference != first.reference
