"""Agreements only on purpose: the acceptance verdict (table-driven)."""

from __future__ import annotations

import pytest

from bot.understanding.acceptance import Acceptance, is_stale_refusal, judge_acceptance
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
