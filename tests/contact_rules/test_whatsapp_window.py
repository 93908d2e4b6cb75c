"""WhatsApp's 24-hour customer-service window: open before 24 hours, closed at exactly 24."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.contact_rules.whatsapp import whatsapp_window_open

LAST = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(("elapsed", "is_open"), [
    (timedelta(0), True),
    (timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999), True),
    (timedelta(hours=24), False),
    (timedelta(hours=24, microseconds=1), False),
    (timedelta(days=3), False),
])
def test_the_window_closes_at_exactly_24_hours(elapsed: timedelta, is_open: bool) -> None:
    assert whatsapp_window_open(LAST, LAST + elapsed) is is_open


def test_no_inbound_message_means_closed() -> None:
    assert whatsapp_window_open(None, LAST) is False
