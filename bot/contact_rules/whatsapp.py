"""WhatsApp's customer-service window (pure): the one rule the channel and the agent desk use.

Meta lets a business send free-form messages for 24 hours after the customer's last message;
from that moment on only approved templates may go out until the customer writes again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

WHATSAPP_WINDOW = timedelta(hours=24)


def whatsapp_window_open(last_inbound_at: datetime | None, now: datetime) -> bool:
    """Open while less than 24 hours have passed since the last inbound message; closed at
    exactly 24 hours and when the contact never wrote."""
    return last_inbound_at is not None and now - last_inbound_at < WHATSAPP_WINDOW
