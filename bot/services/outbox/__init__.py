"""The outbound queue: enqueue messages, dispatch them under rate limits, record their status.

Every outbound message on Telegram, WhatsApp and SMS goes through the ``outbox`` table.
:class:`OutboxDispatcher` (``acordo worker``, or inside the app) claims due rows that head
their chat's queue, books a send time with the rate limiter (the provider's next free global
slot, provided the chat is free by then; in process or in Redis), sleeps until that instant,
sends through the channel and records the outcome. Sends are pipelined: up to
``booking_horizon`` seconds of slots are booked ahead, each send waiting for its own instant
in its own task, so the dispatcher's latency (database, HTTP round trips) never leaves a
slot unused. A send that wakes up more than ``late_tolerance`` after its instant (the
process was starved of CPU) is not sent late, which would crowd the sends after it, but
books a new slot. Outcomes:

- accepted: ``sent`` (and the conversation message gets the provider id);
- :class:`RetryLater`: back to ``pending`` after the provider's ``retry_after`` (which also
  pushes back that chat's next slot in the limiter) or an exponential backoff with jitter;
  the retry books a slot like any send; the idempotency key is the same on every attempt;
- :class:`Refused` / :class:`Undeliverable`: ``failed``; an unreachable contact (blocked
  the bot, opted out at the carrier) is marked so on that channel and audited.

The queue is generic: the cadence (régua) enqueues bot-initiated reminders with
``initiated_by="bot"``, which an opt-out cancels.

A row may name a picture (``media_kind``/``media_ref``: the PIX QR code of payment
instructions); the injected :class:`~bot.channels.base.MediaResolver` rebuilds it when the
row is claimed, so the picture is sent after a restart too. A send that waited for its rate
limit slot is reported to ``on_rate_limit_wait(channel, seconds)`` (the app's or the
worker's metrics), counted from the moment the row was claimed to its booked instant.
"""
