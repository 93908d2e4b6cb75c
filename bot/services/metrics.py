"""Operations metrics for ``GET /metrics`` (Prometheus text format, prometheus-client).

One :class:`OperationsMetrics` per app (its own registry; nothing global at import):

- from the code path: the turn latency histogram (``acordo_turn_seconds``, one debtor message
  in to the replies stored), Rasa errors (``acordo_rasa_errors_total``), rate-limit waits
  (``acordo_rate_limit_waits_total`` / ``..._seconds_total``, fed by :meth:`rate_limit_wait`,
  which every outbox dispatcher of the process calls);
- from the stored facts, read at each scrape: messages by direction, channel and status,
  outbox depth and the age of its oldest unsent message per channel, provider errors
  (failed outbox rows, payment provider errors), handoffs waiting for a person.

The code-path metrics are counted in the process where the code runs. ``acordo worker`` is
another process: ``acordo worker --metrics-port N`` serves its ``process_registry`` (the
code-path metrics only: the stored facts are the app's ``/metrics``) with
:func:`serve_process_metrics`.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
)
from sqlalchemy import func, select

from bot.channels.base import Receipt
from bot.clock import Clock
from bot.dialogue.engine import DialogueEngine, DialogueUnavailable
from bot.rendering.renderer import TemplateRenderer
from bot.services.conversation import ConversationService, RenderedReply
from bot.services.portal_links import PortalLinkIssuer
from bot.services.update_claim import UpdateClaim
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage, OutboxStatus
from bot.storage.uow import UnitOfWorkFactory

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class OperationsMetrics:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock
        self.registry = CollectorRegistry()
        self.process_registry = CollectorRegistry()  # the code-path metrics alone (worker port)
        r = self.registry
        self.turn_seconds = Histogram("acordo_turn_seconds", "Debtor message in to replies stored",
                                      ["channel"], registry=None,
                                      buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
        self.rasa_errors = Counter("acordo_rasa_errors", "Dialogue engine (Rasa) calls that failed",
                                   registry=None)
        self.rate_limit_waits = Counter("acordo_rate_limit_waits", "Sends delayed by a rate limit",
                                        ["channel"], registry=None)
        self.rate_limit_wait_seconds = Counter("acordo_rate_limit_wait_seconds",
                                               "Time sends waited for a rate limit", ["channel"],
                                               registry=None)
        for collector in (self.turn_seconds, self.rasa_errors, self.rate_limit_waits,
                          self.rate_limit_wait_seconds):
            self.registry.register(collector)
            self.process_registry.register(collector)
        self.messages = Gauge("acordo_messages", "Messages stored, by direction, channel and status",
                              ["direction", "channel", "status"], registry=r)
        self.outbox_depth = Gauge("acordo_outbox_depth", "Outbox messages not yet sent", ["channel"],
                                  registry=r)
        self.outbox_age = Gauge("acordo_outbox_oldest_age_seconds",
                                "Age of the oldest unsent outbox message", ["channel"], registry=r)
        self.provider_errors = Gauge("acordo_provider_errors", "Provider sends that failed for good",
                                     ["provider"], registry=r)
        self.handoffs_waiting = Gauge("acordo_handoffs_waiting",
                                      "Conversations handed to a person and waiting", registry=r)

    def rate_limit_wait(self, channel: str, seconds: float) -> None:
        """Hook of the outbox dispatchers: a send waited ``seconds`` for its rate-limit slot."""
        self.rate_limit_waits.labels(channel).inc()
        self.rate_limit_wait_seconds.labels(channel).inc(max(seconds, 0.0))

    async def render(self) -> bytes:
        await self._refresh()
        return generate_latest(self.registry)

    async def _refresh(self) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            session = uow.session  # the stored facts are counts over whole tables: a report
            rows = (await session.execute(
                select(db.Message.direction, db.Message.channel, db.Message.status, func.count())
                .group_by(db.Message.direction, db.Message.channel, db.Message.status))).all()
            self.messages.clear()
            for direction, channel, status, count in rows:
                self.messages.labels(direction, channel, status).set(count)
            unsent = (await session.execute(
                select(OutboxMessage.channel, func.count(), func.min(OutboxMessage.created_at))
                .where(OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]))
                .group_by(OutboxMessage.channel))).all()
            self.outbox_depth.clear()
            self.outbox_age.clear()
            for channel, count, oldest in unsent:
                self.outbox_depth.labels(channel).set(count)
                if oldest is not None:
                    if not isinstance(oldest, datetime):  # SQLite: min() bypasses the column type
                        oldest = datetime.fromisoformat(str(oldest))
                    if oldest.tzinfo is None:
                        oldest = oldest.replace(tzinfo=UTC)
                    self.outbox_age.labels(channel).set(max((now - oldest).total_seconds(), 0.0))
            failed = (await session.execute(
                select(OutboxMessage.channel, func.count())
                .where(OutboxMessage.status == OutboxStatus.FAILED.value)
                .group_by(OutboxMessage.channel))).all()
            self.provider_errors.clear()
            for channel, count in failed:
                self.provider_errors.labels(channel).set(count)
            payment_errors = await session.scalar(
                select(func.count()).select_from(db.AuditEvent)
                .where(db.AuditEvent.kind == "payment_provider_error"))
            self.provider_errors.labels("payments").set(payment_errors or 0)
            waiting = await session.scalar(select(func.count()).select_from(db.Conversation)
                                           .where(db.Conversation.state == db.ConversationState.HUMAN.value))
            self.handoffs_waiting.set(waiting or 0)


class _MetricsServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_process_metrics(metrics: OperationsMetrics, port: int, host: str = "127.0.0.1",
                          tokens: Sequence[str] = ()) -> tuple[int, Callable[[], None]]:
    """Serve ``metrics.process_registry`` (Prometheus text, any path) on ``host:port`` (0: a free
    port) in a background thread, like prometheus_client's ``start_http_server``, behind the
    same bearer check as the app's ``/metrics``: a request is answered only when it carries
    ``Authorization: Bearer <one of tokens>``. Returns the port bound and a function that stops."""
    exposition = make_wsgi_app(metrics.process_registry)
    accepted = [token.encode() for token in tokens if token]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        given = header.removeprefix("Bearer ").encode() if header.startswith("Bearer ") else b""
        matches = [secrets.compare_digest(given, token) for token in accepted]  # all compared
        if not any(matches):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", "Bearer")])
            return [b"missing or invalid bearer token\n"]
        result: Iterable[bytes] = exposition(environ, start_response)
        return result

    server = make_server(host, port, app, _MetricsServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return int(server.server_address[1]), stop


class MeasuredDialogue:
    """Counts dialogue engine failures; everything else goes to the wrapped engine."""

    def __init__(self, inner: DialogueEngine, metrics: OperationsMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def respond(self, conversation_id: str, text: str,
                      metadata: dict[str, Any] | None = None) -> Any:
        try:
            return await self._inner.respond(conversation_id, text, metadata)
        except DialogueUnavailable:
            self._metrics.rasa_errors.inc()
            raise

    async def is_ready(self) -> bool:
        return await self._inner.is_ready()


class MeasuredConversations(ConversationService):
    """The inbound pipeline, timed per turn into ``acordo_turn_seconds``."""

    def __init__(self, uow: UnitOfWorkFactory, engine: DialogueEngine,
                 renderer: TemplateRenderer, default_locale: str, picture_channels: Collection[str], *,
                 metrics: OperationsMetrics, portal_links: PortalLinkIssuer | None = None) -> None:
        super().__init__(uow, engine, renderer, default_locale, picture_channels,
                         portal_links=portal_links)
        self.metrics = metrics

    async def handle_inbound(self, channel: str, address: str, text: str,
                             provider_id: str | None = None, *, reactivate: bool = False,
                             claim: UpdateClaim | None = None,
                             receipts: Sequence[Receipt] = ()) -> list[RenderedReply]:
        started = time.perf_counter()
        try:
            return await super().handle_inbound(channel, address, text, provider_id,
                                                 reactivate=reactivate, claim=claim,
                                                 receipts=receipts)
        finally:
            self.metrics.turn_seconds.labels(channel).observe(time.perf_counter() - started)

