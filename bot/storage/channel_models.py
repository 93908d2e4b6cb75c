"""Tables of the messaging channels: the outbound queue, stored inbound updates, link tokens.

Kept apart from :mod:`bot.storage.models` (same ``Base`` and naming convention) so the
channels feature ships its own migration (``0002_channels``; pictures: ``0008_outbox_media``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, one_of
from bot.storage.types import JSONData, UTCDateTime, clock_now


class OutboxStatus(StrEnum):
    PENDING = "pending"      # waiting for its turn (or for next_attempt_at after a retry)
    SENDING = "sending"      # claimed by a dispatcher until lease_until
    SENT = "sent"            # accepted by the provider
    DELIVERED = "delivered"  # the provider reported delivery
    READ = "read"
    FAILED = "failed"        # terminal: refused, undeliverable or out of attempts
    CANCELLED = "cancelled"  # bot-initiated message to a contact that opted out / is unreachable


class Initiator(StrEnum):
    REPLY = "reply"  # an answer to the debtor's own message
    BOT = "bot"      # bot-initiated (reminders, broadcasts): suppressed by an opt-out


class InboundStatus(StrEnum):
    RECEIVED = "received"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "failed"


# ``last_error`` of a row withdrawn because its contact window closed before it went.
OUTSIDE_HOURS = "outside_hours"


class OutboxMessage(Base):
    """One message to send on a channel; ``idempotency_key`` makes enqueueing and sending once-only."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),
        Index(None, "channel", "address", "id"),
        one_of("status", OutboxStatus),
        one_of("initiated_by", Initiator),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(255))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONData())
    template: Mapped[str | None] = mapped_column(String(64))
    template_vars: Mapped[dict[str, Any] | None] = mapped_column(JSONData())
    locale: Mapped[str | None] = mapped_column(String(16))
    # A picture sent with the text, by reference (rebuilt when sent): kind "pix_qr", ref a txid.
    media_kind: Mapped[str | None] = mapped_column(String(16))
    media_ref: Mapped[str | None] = mapped_column(String(128))
    initiated_by: Mapped[str] = mapped_column(String(8), default=Initiator.REPLY.value)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    # A bot-initiated contact never goes at or after this moment (its contact window's end).
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    provider_id: Mapped[str | None] = mapped_column(String(128), index=True)
    segments: Mapped[int | None] = mapped_column(Integer)
    encoding: Mapped[str | None] = mapped_column(String(8))
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now, onupdate=clock_now)


class InboundUpdate(Base):
    """A provider's inbound delivery (Telegram update, Twilio message), stored before we answer 200."""

    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("channel", "provider_key"),
        Index(None, "status", "id"),
        one_of("status", InboundStatus),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONData())
    status: Mapped[str] = mapped_column(String(16), default=InboundStatus.RECEIVED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TelegramLinkToken(Base):
    """A one-time deep-link token (``/start <token>``) that links a Telegram chat to a contact.

    Only the SHA-256 of the token is stored; the contact is created when the chat uses it.
    """

    __tablename__ = "telegram_link_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    chat_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
