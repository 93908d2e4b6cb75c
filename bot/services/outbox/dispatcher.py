"""The dispatcher: claims due outbox rows and sends them under the channels' rate limits."""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels.base import (
    ButtonSpec,
    Channel,
    ChannelError,
    MediaRef,
    MediaResolver,
    MediaSpec,
    OutboundMessage,
    Refused,
    RetryLater,
    SendReceipt,
    Undeliverable,
    is_forward,
)
from bot.channels.ratelimit import ChannelRates, RateLimiter
from bot.clock import Clock
from bot.conversation.plain_values import decode
from bot.services.outbox.mail import MailComposer
from bot.services.outbox.status import STATE_OUTBOX, mark_unreachable, message_state
from bot.storage import models as db
from bot.storage.channel_models import OUTSIDE_HOURS, Initiator, OutboxMessage, OutboxStatus
from bot.storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


RateLimitWaitHook = Callable[[str, float], None]


class OutboxStalled(RuntimeError):
    """:meth:`OutboxDispatcher.run_until_idle` would have to sleep longer than it may."""

    def __init__(self, row: OutboxMessage, due_in: float, max_wait: float, now: datetime) -> None:
        self.row_id = row.id
        super().__init__(
            f"outbox row {row.id} ({row.channel} {row.address!r}, key {row.idempotency_key!r}, "
            f"status {row.status}) is due at {row.next_attempt_at.isoformat()}, {due_in:.0f} s after "
            f"the dispatcher's clock ({now.isoformat()}); refusing to wait more than {max_wait:.0f} s")


@dataclass
class _Held:
    row: OutboxMessage
    message: OutboundMessage
    claimed_at: float = 0.0   # when it was ready to go (claimed and due)
    ready_at: float = 0.0     # not before this (its chat is busy until then)
    rebooked: int = 0
    limited: bool = False     # the limits refused a booking for it at least once
    waited: float = 0.0       # booked instant minus claimed_at, when the limits delayed it


class OutboxDispatcher:
    """Sends due outbox rows through their channels under the configured rate limits."""

    def __init__(self, uow: UnitOfWorkFactory, channels: Mapping[str, Channel],
                 limiter: RateLimiter, rates: Mapping[str, ChannelRates], *, clock: Clock,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 worker_id: str | None = None, batch: int = 100, concurrency: int = 64,
                 lease_seconds: float = 60.0, max_attempts: int = 8,
                 backoff_base: float = 1.0, backoff_cap: float = 300.0,
                 poll_interval: float = 0.25, rng: random.Random | None = None,
                 booking_horizon: float = 1.0, late_tolerance: float | None = 0.02,
                 max_rebooks: int = 3, media: MediaResolver | None = None,
                 on_rate_limit_wait: RateLimitWaitHook | None = None,
                 mail: MailComposer | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._uow = uow
        self._channels = dict(channels)
        self._limiter = limiter
        self._rates = dict(rates)
        self._clock = clock        # due times, leases and the stamps written to rows
        self._monotonic = monotonic  # pacing: sleeps, booked instants, waits
        self._sleep = sleep
        self.worker_id = worker_id or f"dispatcher-{uuid.uuid4().hex[:12]}"
        self._batch = batch
        self._slots = asyncio.Semaphore(concurrency)
        self._lease = timedelta(seconds=lease_seconds)
        self._max_attempts = max_attempts
        self._backoff = (backoff_base, backoff_cap)
        self._poll = poll_interval
        self._rng = rng or random.Random()
        self._horizon = booking_horizon
        self._late_tolerance = late_tolerance
        self._max_rebooks = max_rebooks
        self._media = media
        self._mail = mail  # an e-mail's subject, footer and headers (bot/services/outbox/mail.py)
        self._on_rate_limit_wait = on_rate_limit_wait
        self._held: dict[int, _Held] = {}
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self.stats = {"sent": 0, "retried": 0, "failed": 0, "cancelled": 0, "rebooked": 0}

    def wake(self) -> None:
        self._wake.set()

    def _now(self) -> float:
        """Seconds on the pacing clock (a duration's start or end, never a date)."""
        return self._monotonic()

    # -- main loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until ``stop`` is set; claimed rows still held are given back.

        Claims and lease renewals run in the background: a slow query must not stop the
        booking of slots for the rows already held (the booked horizon would drain and slots
        go unused).
        """
        last_claim = last_renew = float("-inf")
        claiming: asyncio.Task[None] | None = None
        renewing: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                now = self._now()
                if claiming is not None and claiming.done():
                    claiming.result()  # a failed claim stops the dispatcher, as before
                    claiming = None
                if claiming is None and len(self._held) < self._batch // 2 and now - last_claim >= self._poll:
                    claiming = asyncio.create_task(self._claim_and_wake())
                    last_claim = now
                if renewing is not None and renewing.done():
                    renewing.result()
                    renewing = None
                if renewing is None and now - last_renew >= self._lease.total_seconds() / 3:
                    renewing = asyncio.create_task(self._renew())
                    last_renew = now
                pause = await self._send_ready()
                if pause > 0:
                    await self._pause(min(pause, self._poll), stop)
        finally:
            await asyncio.gather(*(t for t in (claiming, renewing) if t is not None), return_exceptions=True)
            await self._finish()

    async def _claim_and_wake(self) -> None:
        await self._claim()
        self._wake.set()

    async def run_until_idle(self, max_rounds: int = 10_000, max_wait: float = 600.0) -> None:
        """Dispatch until nothing is held, in flight or waiting (tests and one-off runs).

        Sleeps (through the injected ``sleep``) until the next retry is due, but never for
        more than ``max_wait`` seconds at once: a row due later than that (stamped by another
        clock, or parked for hours) raises :class:`OutboxStalled` naming it, instead of a hang.
        """
        for _ in range(max_rounds):
            await self._claim()
            if not self._held and not self._in_flight:
                due = await self._next_due()
                if due is None:
                    return
                due_in, row = due
                if due_in > max_wait:
                    raise OutboxStalled(row, due_in, max_wait, self._clock.now())
                await self._sleep(max(due_in, 0.001))
                continue
            pause = await self._send_ready()
            if self._in_flight:
                await asyncio.wait(list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED)
            elif pause > 0:
                await self._sleep(max(pause, 0.001))
        raise RuntimeError("outbox still busy after max_rounds")

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        self._wake.clear()
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait()),
                   asyncio.ensure_future(self._sleep(seconds))]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _finish(self) -> None:
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        if self._held:
            async with self._uow() as uow:
                await uow.outbox.release(list(self._held), self.worker_id)
                await uow.commit()
            self._held.clear()

    async def _next_due(self) -> tuple[float, OutboxMessage] | None:
        """Seconds until the next unfinished row of our channels is due, and that row;
        ``None`` if there is none."""
        async with self._uow() as uow:
            rows = await uow.outbox.unfinished(list(self._channels))
        if not rows:
            return None
        now = self._clock.now()

        def moment(row: OutboxMessage) -> datetime:
            if row.status == OutboxStatus.SENDING and row.lease_until:
                return row.lease_until
            return row.next_attempt_at

        # Rows already due but not claimable wait for an earlier row of their chat.
        future = [row for row in rows if moment(row) > now]
        if not future:
            return self._poll, rows[0]
        first = min(future, key=moment)
        return (moment(first) - now).total_seconds(), first

    async def _claim(self) -> None:
        room = self._batch - len(self._held) - len(self._in_flight)
        if room <= 0:
            return
        now = self._clock.now()
        async with self._uow() as uow:
            rows = await uow.outbox.claim(self.worker_id, now, now + self._lease, room, list(self._channels))
            rows = await self._drop_suppressed(uow.session, rows)
            contexts = await self._last_inbound(uow.session, rows)
            await uow.commit()
        claimed_at = self._now()
        for row in rows:
            if row.id not in self._in_flight:
                await self._hold(row, contexts.get(row.id), claimed_at)

    async def _hold(self, row: OutboxMessage, last_inbound_at: datetime | None,
                    claimed_at: float) -> None:
        """Build a claimed row's message (its picture, an e-mail's parts) and hold it to send."""
        media = None
        if row.media_kind and self._media is not None and row.media_ref:
            try:
                media = await self._media.resolve(MediaRef(row.media_kind, row.media_ref))
            except Exception as exc:
                logger.warning("outbox row %s: could not rebuild its picture", row.id, exc_info=True)
                if not row.text:  # the picture alone: try again later
                    await self._retry(row, RetryLater(f"picture: {type(exc).__name__}"))
                    return
        if row.media_kind and media is None and not row.text:
            await self._cancel(row, "picture unavailable")
            return
        message = _outbound(row, last_inbound_at, media)
        if row.channel == "email" and self._mail is not None:
            try:
                message = replace(message, mail=await self._mail.compose(row))
            except Exception as exc:
                logger.warning("outbox row %s: could not compose its e-mail", row.id, exc_info=True)
                await self._retry(row, RetryLater(f"e-mail: {type(exc).__name__}"))
                return
        self._held[row.id] = _Held(row, message, claimed_at)

    async def _cancel(self, row: OutboxMessage, reason: str) -> None:
        async with self._uow() as uow:
            await uow.outbox.record(row.id, status=OutboxStatus.CANCELLED.value, lease_until=None,
                                    last_error=reason, updated_at=self._clock.now())
            await uow.commit()
        self.stats["cancelled"] += 1

    async def _drop_suppressed(self, session: AsyncSession, rows: list[OutboxMessage]
                               ) -> list[OutboxMessage]:
        """Bot-initiated messages to contacts that opted out or are unreachable are cancelled."""
        bot_rows = [r for r in rows if r.initiated_by == Initiator.BOT and r.contact_id is not None]
        if not bot_rows:
            return rows
        statuses = dict((await session.execute(
            select(db.Contact.id, db.Contact.status).where(
                db.Contact.id.in_([r.contact_id for r in bot_rows])))).all())
        keep = []
        for row in rows:
            status = statuses.get(row.contact_id or 0)
            if row.initiated_by == Initiator.BOT and status not in (None, db.ContactStatus.ACTIVE):
                row.status, row.last_error = OutboxStatus.CANCELLED.value, f"contact {status}"
                self.stats["cancelled"] += 1
            else:
                keep.append(row)
        return keep

    async def _last_inbound(self, session: AsyncSession, rows: list[OutboxMessage]
                            ) -> dict[int, datetime | None]:
        """When each WhatsApp recipient last wrote to us (the 24-hour window)."""
        wanted = [r for r in rows if r.channel == "whatsapp" and r.contact_id is not None]
        if not wanted:
            return {}
        found = dict((await session.execute(
            select(db.Conversation.contact_id, db.Conversation.last_inbound_at).where(
                db.Conversation.contact_id.in_([r.contact_id for r in wanted])))).all())
        return {r.id: found.get(r.contact_id or 0) for r in wanted}

    async def _renew(self) -> None:
        ids = list(self._held) + list(self._in_flight)
        if ids:
            now = self._clock.now()
            async with self._uow() as uow:
                await uow.outbox.renew(ids, self.worker_id, now + self._lease)
                await uow.commit()

    async def _send_ready(self) -> float:
        """Book a send time for every held message the limits allow within the booking horizon
        and start its task; how long until the next booking may succeed."""
        now = self._now()
        pause = self._poll
        for held in sorted(self._held.values(), key=lambda h: (h.ready_at, h.row.id)):
            if held.ready_at > now:
                pause = min(pause, held.ready_at - now)
                continue
            if self._slots.locked():
                return pause  # a finishing send wakes the loop
            send_at: float | None = None
            rates = self._rates.get(held.row.channel)
            if rates is not None:
                limits = rates.limits(held.row.channel, held.row.address)
                booking = await self._limiter.book(limits, self._horizon)
                if not booking.booked:
                    held.limited = True
                    if booking.blocked_by != limits[0].key:  # this chat is busy
                        held.ready_at = self._now() + booking.delay
                        pause = min(pause, booking.delay)
                        continue
                    return min(pause, booking.delay)  # the global schedule is booked up to the horizon
                send_at = self._now() + booking.delay
                delayed = held.limited or booking.delay > 0
                held.waited = max(send_at - held.claimed_at, 0.0) if delayed else 0.0
            del self._held[held.row.id]
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(held, send_at))
            self._in_flight[held.row.id] = task
        return pause if self._held else self._poll

    # -- one message -------------------------------------------------------------------------

    async def _deliver(self, held: _Held, send_at: float | None = None) -> None:
        try:
            if send_at is not None:
                wait = send_at - self._now()
                if wait > 0:
                    await self._sleep(wait)
                late = self._now() - send_at
                if (self._late_tolerance is not None and late > self._late_tolerance
                        and held.rebooked < self._max_rebooks):
                    # Woken too late: sending now would crowd the next slots. The booked slot
                    # stays unused and the message books another one.
                    held.rebooked += 1
                    held.ready_at = 0.0
                    self._held[held.row.id] = held
                    self.stats["rebooked"] += 1
                    return
            if held.row.not_after is not None and self._clock.now() >= held.row.not_after:
                # Its contact window closed while it waited (claimed, rate-limited, retried):
                # never sent after hours; the régua plans it again (CadenceService.sweep).
                await self._cancel(held.row, OUTSIDE_HOURS)
                return
            if held.waited > 0:
                self._report_wait(held.row.channel, held.waited)
            channel = self._channels[held.row.channel]
            try:
                receipt = await channel.send(held.message)
            except RetryLater as exc:
                rates = self._rates.get(held.row.channel)
                if exc.retry_after and rates is not None:
                    await self._defer_chat(rates, held.row, exc.retry_after)
                await self._retry(held.row, exc)
            except (Refused, Undeliverable) as exc:
                await self._fail(held.row, exc)
            except ChannelError as exc:  # pragma: no cover - a new kind: retry to be safe
                await self._retry(held.row, RetryLater(str(exc)))
            else:
                await self._sent(held.row, receipt)
        except Exception:
            logger.exception("outbox row %s: unexpected error", held.row.id)
        finally:
            self._in_flight.pop(held.row.id, None)
            self._slots.release()
            self._wake.set()

    def _report_wait(self, channel: str, seconds: float) -> None:
        if self._on_rate_limit_wait is not None:
            try:
                self._on_rate_limit_wait(channel, seconds)
            except Exception:  # a metrics hook never stops a send
                logger.warning("rate-limit wait hook failed", exc_info=True)

    async def _defer_chat(self, rates: ChannelRates, row: OutboxMessage, seconds: float) -> None:
        """Telegram's ``retry_after``: no slot for this chat before then, in any dispatcher."""
        try:
            await self._limiter.defer(rates.chat_limit(row.channel, row.address).key, seconds)
        except Exception:  # the row's own next_attempt_at still holds the retry back
            logger.warning("outbox row %s: could not defer the chat in the limiter", row.id, exc_info=True)

    async def _sent(self, row: OutboxMessage, receipt: SendReceipt) -> None:
        async with self._uow() as uow:
            now = self._clock.now()
            await uow.outbox.record(
                row.id, status=STATE_OUTBOX.get(receipt.state, OutboxStatus.SENT).value,
                provider_id=receipt.provider_id or None, segments=receipt.segments,
                encoding=receipt.encoding, sent_at=now, lease_until=None,
                attempts=row.attempts + 1, updated_at=now)
            if row.message_id is not None:
                message = await uow.conversations.message(row.message_id)
                if message is not None:
                    if is_forward(message_state(message.status), receipt.state):
                        message.status = receipt.state.value
                    message.provider_id = receipt.provider_id or message.provider_id
            await uow.commit()
        self.stats["sent"] += 1

    async def _retry(self, row: OutboxMessage, exc: RetryLater) -> None:
        attempts = row.attempts + 1
        if attempts >= self._max_attempts:
            await self._fail(row, Undeliverable(f"gave up after {attempts} attempts: {exc.reason}"))
            return
        delay = exc.retry_after if exc.retry_after is not None else self._backoff_delay(attempts)
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.outbox.record(
                row.id, status=OutboxStatus.PENDING.value, attempts=attempts,
                next_attempt_at=now + timedelta(seconds=delay), lease_until=None,
                claimed_by=None, last_error=exc.reason[:500], updated_at=now)
            await uow.commit()
        self.stats["retried"] += 1

    def _backoff_delay(self, attempts: int) -> float:
        base, cap = self._backoff
        return float(min(cap, base * 2 ** (attempts - 1)) * self._rng.uniform(0.5, 1.5))

    async def _fail(self, row: OutboxMessage, exc: ChannelError) -> None:
        reason = str(exc)[:500]
        now = self._clock.now()
        async with self._uow() as uow:
            await uow.outbox.record(row.id, status=OutboxStatus.FAILED.value, attempts=row.attempts + 1,
                                    lease_until=None, last_error=reason, updated_at=now)
            if row.message_id is not None:
                message = await uow.conversations.message(row.message_id)
                if message is not None and message.status in ("queued", "sent"):
                    message.status = "failed"
            if isinstance(exc, Undeliverable) and exc.unreachable:
                await mark_unreachable(uow, row, reason)
            await uow.commit()
        self.stats["failed"] += 1


def _outbound(row: OutboxMessage, last_inbound_at: datetime | None,
              media: MediaSpec | None = None) -> OutboundMessage:
    buttons: Sequence[ButtonSpec] = tuple(
        ButtonSpec(str(b.get("title", "")), str(b.get("payload", ""))) for b in row.buttons or ())
    return OutboundMessage(
        channel=row.channel, address=row.address, text=row.text,
        idempotency_key=row.idempotency_key, buttons=buttons, template=row.template,
        template_vars=dict(decode(row.template_vars or {})), locale=row.locale,
        last_inbound_at=last_inbound_at, media=media,
    )
