"""Inbound deliveries from providers: stored first, processed once, resumed after a crash.

A webhook stores the raw update (``inbound_updates``, unique per channel and provider
key) and commits before it answers 200; :class:`InboundProcessor` then processes it in
the background. A duplicate delivery is recognised at storage and dropped. An update
whose processing died with its process (lease expired) is picked up again at the next
start or by the worker's sweep; the conversation's own idempotency key (the provider
message id) and the outbox's (``reply:<channel>:<provider id>:<n>``) make the retry
produce one stored message and one reply.

The processor does not claim an update in a transaction of its own: it hands an
:class:`~bot.services.update_claim.UpdateClaim` to the channel's handler, and the claim
rides in the units of work that process the update. One message from a known contact
therefore commits four times up to its reply queued:

1. the webhook stores the update (``received``);
2. the conversation claims it (``processing``, with a lease) and stores the message, at once;
3. the dialogue's custom action stores its changes (another request, its own transaction);
4. the conversation stores and queues the replies and marks the message and the update
   ``processed``, at once.

The dispatcher later claims and sends the reply (two more commits). Nothing is weaker than
with a claim of its own: until step 2 commits, the update is ``received`` and the next start
(or the sweep) resumes it; after it, the message is stored and the lease guards it as
before; step 4 is one transaction, so a crash leaves either the replies queued and the
update processed, or neither (and the retry finds the stored message, asks again, and the
outbox keys keep the reply single). A unit that cannot take the claim (another process
holds the update) raises :class:`~bot.services.update_claim.UpdateTaken` and writes
nothing. Handlers that act before the conversation's first unit (a button press answered,
a group left, a link redeemed) secure the claim first in a commit of their own, and
:meth:`InboundProcessor.resume` claims before it knows the update: those paths commit once
more. An update whose handler wrote nothing is claimed and finished in one commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.channels.base import InboundMessage, Receipt
from bot.clock import Clock
from bot.conversation.outcome import Reply
from bot.rendering.renderer import TemplateRenderer
from bot.services.conversation import ConversationService, RenderedReply
from bot.services.outgoing import OutgoingMessages
from bot.services.update_claim import UpdateClaim, UpdateTaken
from bot.storage.channel_models import InboundStatus
from bot.storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)

# A channel's handler of one stored update: it hands the claim to the units of work that write.
UpdateHandler = Callable[[Mapping[str, Any], UpdateClaim], Awaitable[None]]


class ChannelInbox:
    """Hands a debtor message to the conversation pipeline and queues the replies."""

    def __init__(self, uow: UnitOfWorkFactory, conversations: ConversationService,
                 renderer: TemplateRenderer, default_locale: str,
                 wake_outbox: Callable[[], None] = lambda: None,
                 picture_channels: Collection[str] = ()) -> None:
        self._uow = uow
        self._picture_channels = frozenset(picture_channels)  # channels that can show a picture
        self._conversations = conversations
        self._outgoing = OutgoingMessages(renderer)
        self._default_locale = default_locale
        self._wake_outbox = wake_outbox

    async def receive(self, message: InboundMessage, claim: UpdateClaim | None = None, *,
                      receipts: Sequence[Receipt] = ()) -> list[RenderedReply]:
        """A contact's replies are stored and queued in the conversation's own transaction;
        an unknown sender's neutral reply (not stored) is queued here. ``claim``: the
        stored update ``message`` came in, handed to those transactions; ``receipts``: the
        files fetched from the message's media (they go on the debtor's payment claim)."""
        replies = await self._conversations.handle_inbound(
            message.channel, message.address, message.text, message.provider_id, reactivate=True,
            claim=claim, receipts=receipts)
        await self._queue_unstored(message, [r for r in replies if r.message_id is None], claim)
        if replies:
            self._wake_outbox()
        return replies

    async def reply_with(self, message: InboundMessage, reply: Reply, locale: str | None,
                         claim: UpdateClaim | None = None) -> None:
        """Queue one templated reply to ``message`` outside the dialogue (deep links: the
        chat may not be a contact yet, so nothing is stored in a conversation)."""
        out = self._outgoing.render(reply, locale or self._default_locale, message.channel)
        await self._queue_unstored(message, [RenderedReply(out.text, out.buttons, None, out.media)],
                                   claim)
        self._wake_outbox()

    async def _queue_unstored(self, message: InboundMessage, replies: list[RenderedReply],
                              claim: UpdateClaim | None) -> None:
        if not replies:
            return
        async with self._uow() as uow:
            contact = await uow.portfolio.find_contact(message.channel, message.address)
            pictures = message.channel in self._picture_channels
            for index, reply in enumerate(replies):
                await uow.outbox.enqueue(
                    channel=message.channel, address=message.address, text=reply.text,
                    buttons=reply.buttons or None, contact_id=contact.id if contact else None,
                    idempotency_key=f"reply:{message.channel}:{message.provider_id}:{index}",
                    media=reply.media if pictures else None,
                )
            if claim is not None:
                await claim.settle(uow)  # the update is processed with its replies queued
            await uow.commit()


class InboundProcessor:
    """Stores inbound updates and processes them once, in the background or on resume."""

    def __init__(self, uow: UnitOfWorkFactory, handlers: Mapping[str, UpdateHandler],
                 clock: Clock, lease_seconds: float = 120.0) -> None:
        self._uow = uow
        self._handlers = dict(handlers)
        self._clock = clock
        self._lease = timedelta(seconds=lease_seconds)
        self._tasks: set[asyncio.Task[bool]] = set()
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def store(self, channel: str, provider_key: str, payload: Mapping[str, Any]) -> int | None:
        """Store and commit; the new row's id, or ``None`` for a duplicate delivery."""
        async with self._uow() as uow:
            update_id = await uow.inbound_updates.store(channel, provider_key, payload)
            await uow.commit()
            return update_id

    def process_later(self, update_id: int, channel: str = "", payload: Mapping[str, Any] | None = None
                      ) -> None:
        """Process in the background; updates of one chat are processed one at a time, in order.
        With its ``channel`` and ``payload`` at hand, the claim rides with the first write."""
        lock = self._locks.setdefault((channel, chat_of(payload or {})), asyncio.Lock())
        stored = _Stored(update_id, channel, payload) if channel and payload is not None else None
        task = asyncio.create_task(self._process_locked(lock, update_id, stored))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process_locked(self, lock: asyncio.Lock, update_id: int, stored: _Stored | None) -> bool:
        async with lock:
            if stored is not None:
                return await self._process(stored, self._claim(update_id))
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

    def _claim(self, update_id: int) -> UpdateClaim:
        return UpdateClaim(self._uow, update_id, self._clock, self._lease)

    async def _process_one(self, update_id: int | None) -> bool:
        """Claim (in a commit of its own) ``update_id`` or the oldest waiting one, and process it."""
        now = self._clock.now()
        async with self._uow() as uow:
            row = await uow.inbound_updates.claim(now, now + self._lease, update_id)
            await uow.commit()
        if row is None:
            return False
        claim = self._claim(row.id)
        claim.attempt = row.attempts
        await self._process(_Stored(row.id, row.channel, row.payload), claim)
        return True

    async def _process(self, stored: _Stored, claim: UpdateClaim) -> bool:
        """Run the channel's handler with the claim; record the outcome unless a unit of the
        handler already marked the update processed. ``False`` if another process holds it."""
        handler = self._handlers.get(stored.channel)
        status, error = InboundStatus.PROCESSED, None
        try:
            if handler is None:
                raise LookupError(f"channel {stored.channel} is off")
            await handler(stored.payload, claim)
        except UpdateTaken:
            logger.info("inbound update %s is processed by another process", stored.id)
            return False
        except Exception as exc:
            logger.exception("inbound update %s (%s) failed", stored.id, stored.channel)
            status, error = InboundStatus.FAILED, f"{type(exc).__name__}: {exc}"[:500]
        if status == InboundStatus.PROCESSED and claim.settled:
            return True
        async with self._uow() as uow:
            finished = await claim.finish(uow, status, error)
            await uow.commit()
        return finished


@dataclass(frozen=True)
class _Stored:
    id: int
    channel: str
    payload: Mapping[str, Any]


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
