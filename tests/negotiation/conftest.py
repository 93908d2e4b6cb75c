"""Fixtures for the negotiation core tests (strategies live in strategies.py)."""

from __future__ import annotations

import pytest

from bot.negotiation.offers import Limits

from .strategies import STANDARD_PROFILE


@pytest.fixture
def standard_limits() -> Limits:
    return Limits.for_bot(STANDARD_PROFILE)
