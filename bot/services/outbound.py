"""The seam through which staff-initiated messages leave (agent replies, offers, hand back).

``OutboundSender`` is deliberately tiny so the channels' outbox (issue 4) can implement it
later: ``send`` stores the outbound message and hands it to the debtor's channel.
``StoredOutbound`` is today's implementation:

- every message is stored ``queued`` (a reply to an inbound message, by contrast, is
  stored ``sent``: it went back in the same HTTP answer);
- web: the debtor's chat page polls ``GET /channels/web/messages?sender=...&after=<id>``,
  which returns the queued messages and marks them ``delivered``;
- telegram / whatsapp / sms: the channel outbox delivers queued messages with the
  channel's own rules (rate limits, provider ids, delivery status).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.plain_values import encode
from bot.storage import models as db
from bot.storage.repositories import ConversationRepository


@dataclass(frozen=True)
class OutboundMessage:
    text: str
    author: str  # "agent" or "bot"
    template: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    buttons: Sequence[Mapping[str, str]] = ()


class OutboundSender(Protocol):
    async def send(self, session: AsyncSession, conversation: db.Conversation,
                   message: OutboundMessage) -> db.Message: ...


class StoredOutbound:
    """Stores the message in the conversation; the channel picks it up (see module doc)."""

    async def send(self, session: AsyncSession, conversation: db.Conversation,
                   message: OutboundMessage) -> db.Message:
        return await ConversationRepository(session).add_message(
            conversation, direction="out", author=message.author, text=message.text,
            channel=conversation.channel, status="queued", template=message.template,
            template_vars=encode(dict(message.variables)) if message.template else None,
            buttons=[dict(b) for b in message.buttons] or None,
        )
