"""Inbound deliveries from providers: stored first, processed once, resumed after a crash.

A webhook stores the raw update (``inbound_updates``, unique per channel and provider
key) and commits before it answers 200; :class:`InboundProcessor` then processes it in
the background. A duplicate delivery is recognised at storage and dropped. An update
whose processing died with its process (lease expired) is picked up again at the next
start or by the worker's sweep; the conversation's own idempotency key (the provider
message id) and the outbox's (``reply:<channel>:<provider id>:<n>``) make the retry
produce one stored message and one reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import InboundMessage
from bot.clock import Clock
from bot.conversation.outcome import Reply
from bot.rendering.renderer import TemplateRenderer
from bot.services.conversation import ConversationService, RenderedReply
from bot.services.outgoing import OutgoingMessages
from bot.storage.channel_models import InboundStatus, InboundUpdate
from bot.storage.channel_repositories import InboundUpdateRepository, OutboxRepository
from bot.storage.repositories.portfolio import PortfolioRepository

logger = logging.getLogger(__name__)

UpdateHandler = Callable[[Mapping[str, Any]], Awaitable[None]]


class ChannelInbox:
    """Hands a debtor message to the conversation pipeline and queues the replies."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], conversations: ConversationService,
                 renderer: TemplateRenderer, default_locale: str,
                 wake_outbox: Callable[[], None] = lambda: None,
                 picture_channels: Collection[str] = ()) -> None:
        self._sessions = sessions
        self._picture_channels = frozenset(picture_channels)  # channels that can show a picture
        self._conversations = conversations
        self._outgoing = OutgoingMessages(renderer)
        self._default_locale = default_locale
        self._wake_outbox = wake_outbox

    async def receive(self, message: InboundMessage) -> list[RenderedReply]:
        """A contact's replies are stored and queued in the conversation's own transaction;
        an unknown sender's neutral reply (not stored) is queued here."""
        replies = await self._conversations.handle_inbound(
            message.channel, message.address, message.text, message.provider_id, reactivate=True)
        await self._queue_unstored(message, [r for r in replies if r.message_id is None])
        if replies:
            self._wake_outbox()
        return replies

    async def reply_with(self, message: InboundMessage, reply: Reply, locale: str | None) -> None:
        """Queue one templated reply to ``message`` outside the dialogue (deep links: the
        chat may not be a contact yet, so nothing is stored in a conversation)."""
        out = self._outgoing.render(reply, locale or self._default_locale, message.channel)
        await self._queue_unstored(message, [RenderedReply(out.text, out.buttons, None, out.media)])
        self._wake_outbox()

    async def _queue_unstored(self, message: InboundMessage, replies: list[RenderedReply]) -> None:
        if not replies:
            return
        async with self._sessions() as session:
            contact = await PortfolioRepository(session).find_contact(message.channel, message.address)
            pictures = message.channel in self._picture_channels
            for index, reply in enumerate(replies):
                await OutboxRepository(session).enqueue(
                    channel=message.channel, address=message.address, text=reply.text,
                    buttons=reply.buttons or None, contact_id=contact.id if contact else None,
                    idempotency_key=f"reply:{message.channel}:{message.provider_id}:{index}",
                    media=reply.media if pictures else None,
                )
            await session.commit()


class InboundProcessor:
    """Stores inbound updates and processes them once, in the background or on resume."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], handlers: Mapping[str, UpdateHandler],
                 clock: Clock, lease_seconds: float = 120.0) -> None:
        self._sessions = sessions
        self._handlers = dict(handlers)
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)
        self._tasks: set[asyncio.Task[bool]] = set()
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def store(self, channel: str, provider_key: str, payload: Mapping[str, Any]) -> int | None:
        """Store and commit; the new row's id, or ``None`` for a duplicate delivery."""
        async with self._sessions() as session:
            update_id = await InboundUpdateRepository(session).store(channel, provider_key, payload)
            await session.commit()
            return update_id

    def process_later(self, update_id: int, channel: str = "", payload: Mapping[str, Any] | None = None
                      ) -> None:
        """Process in the background; updates of one chat are processed one at a time, in order."""
        lock = self._locks.setdefault((channel, chat_of(payload or {})), asyncio.Lock())
        task = asyncio.create_task(self._process_locked(lock, update_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process_locked(self, lock: asyncio.Lock, update_id: int) -> bool:
        async with lock:
            return await self._process_one(update_id)

    async def wait_idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def resume(self) -> int:
        """Process every waiting or abandoned update, oldest first; how many were processed."""
        done = 0
        while await self._process_one(None):
            done += 1
        return done

    async def _process_one(self, update_id: int | None) -> bool:
        now = self._clock.now()
        async with self._sessions() as session:
            row = await InboundUpdateRepository(session).claim(now, now + self._lease, update_id)
            await session.commit()
        if row is None:
            return False
        handler = self._handlers.get(row.channel)
        status, error = InboundStatus.PROCESSED, None
        try:
            if handler is None:
                raise LookupError(f"channel {row.channel} is off")
            await handler(row.payload)
        except Exception as exc:
            logger.exception("inbound update %s (%s) failed", row.id, row.channel)
            status, error = InboundStatus.FAILED, f"{type(exc).__name__}: {exc}"[:500]
        async with self._sessions() as session:
            await session.execute(
                update(InboundUpdate).where(InboundUpdate.id == row.id)
                .values(status=status.value, processed_at=self._clock.now(), error=error,
                        lease_until=None))
            await session.commit()
        return True


def chat_of(payload: Mapping[str, Any]) -> str:
    """The chat an update belongs to (Telegram chat id, Twilio sender), for per-chat ordering."""
    for kind in ("message", "edited_message", "channel_post", "my_chat_member"):
        event = payload.get(kind)
        if isinstance(event, dict) and isinstance(event.get("chat"), dict):
            return str(event["chat"].get("id"))
    query = payload.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        return str(query["message"].get("chat", {}).get("id"))
    return str(payload.get("From", ""))
