"""Agreements only on purpose: the acceptance verdict (table-driven) and promise horizons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.negotiation.acceptance import Acceptance, is_stale_refusal, judge_acceptance
from bot.negotiation.offers import Limits, full_payment_offer
from bot.negotiation.promises import PromiseDate, check_promise_date, latest_promise_date
from bot.understanding.consent import offer_payload

A, B = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
ACCEPT, CONFIRM, STALE, NOTHING = Acceptance


@pytest.mark.parametrize(("text", "intent", "confidence", "current", "on_screen", "expected"), [
    ("sim", "affirm", 0.99, A, A, ACCEPT),
    (offer_payload("affirm", A), "affirm", 1.0, A, A, ACCEPT),
    # the found cases: combining accents after an offer; a button under an older offer
    ("\u0301" * 4, "affirm", 0.85, A, A, CONFIRM),
    (offer_payload("affirm", A), "affirm", 1.0, B, B, STALE),
    (offer_payload("affirm", A), "affirm", 1.0, B, None, STALE),
    # a bare "/affirm" names no offer: ask first
    ("/affirm", "affirm", 1.0, A, A, CONFIRM),
    ("sim", "affirm", 0.7, A, A, CONFIRM),
    ("sim?", "affirm", 1.0, A, A, CONFIRM),
    # the last bot message was not the offer (e.g. "quem é vc?" in between)
    ("sim", "affirm", 1.0, A, None, CONFIRM),
    (offer_payload("affirm", A), "affirm", 1.0, A, None, CONFIRM),
    ("sim", "affirm", 1.0, A, B, CONFIRM),
    (offer_payload("deny", A), "affirm", 1.0, A, A, CONFIRM),
    ("sim", "affirm", 1.0, None, None, NOTHING),
])
def test_acceptance(text: str, intent: str, confidence: float, current: str | None,
                    on_screen: str | None, expected: Acceptance) -> None:
    assert judge_acceptance(text, intent, confidence, current=current,
                            on_screen=on_screen) == expected


@pytest.mark.parametrize(("text", "current", "expected"), [
    ("nao", A, False), ("/deny", A, False), (offer_payload("deny", A), A, False),
    (offer_payload("deny", B), A, True), (offer_payload("deny", B), None, True),
])
def test_stale_refusal(text: str, current: str | None, expected: bool) -> None:
    assert is_stale_refusal(text, current) is expected


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
