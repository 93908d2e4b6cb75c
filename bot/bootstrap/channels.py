"""The channels part of the composition: adapters, outbox, limiter, inbound processing.

Built by :func:`build_channel_runtime` from settings (called by :func:`bot.bootstrap.build_container`); a
channel whose settings are absent is simply not built. :meth:`ChannelRuntime.running`
starts the background work of the app (resume stored inbound updates, set the Telegram
webhook, dispatch the outbox when ``ACORDO_OUTBOX_IN_APP``); ``acordo worker`` runs
:meth:`ChannelRuntime.new_dispatcher` on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from bot.channels.base import Channel, MediaResolver
from bot.channels.email_tokens import MailTokens
from bot.channels.ratelimit import ChannelRates, EmailRates, RateLimiter, build_rate_limiter
from bot.channels.receipts import ReceiptFetcher
from bot.channels.web import WebChannel
from bot.clock import Clock
from bot.config import Settings, sender_address
from bot.inbound.imap import ImapMailbox, ImapPoller
from bot.policies import PolicyBook
from bot.rendering.renderer import TemplateRenderer
from bot.services.conversation import ConversationService
from bot.services.email_opt_out import EmailOptOut
from bot.services.inbound import ChannelInbox, InboundProcessor, UpdateHandler
from bot.services.outbox.dispatcher import OutboxDispatcher, RateLimitWaitHook
from bot.services.outbox.mail import MailComposer
from bot.services.outbox.queue import Outbox
from bot.services.payment_pictures import PixQrPictures
from bot.services.telegram_links import TelegramLinks
from bot.services.update_claim import UpdateClaim
from bot.storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)
TELEGRAM_WEBHOOK_PATH = "/channels/telegram/webhook"
TWILIO_STATUS_PATH = "/channels/twilio/status"


class ChannelConfigurationError(RuntimeError):
    pass


@dataclass
class ChannelRuntime:
    settings: Settings
    channels: dict[str, Channel]
    outbox: Outbox
    inbox: ChannelInbox
    inbound: InboundProcessor
    links: TelegramLinks
    limiter: RateLimiter
    rates: dict[str, ChannelRates]
    uow: UnitOfWorkFactory
    clock: Clock
    telegram: Any = None             # TelegramChannel when on
    telegram_dispatcher: Any = None  # aiogram Dispatcher when on
    twilio_validator: Any = None     # twilio RequestValidator when WhatsApp or SMS is on
    media: MediaResolver | None = None              # rebuilds queued pictures (PIX QR codes)
    mail: MailComposer | None = None  # an e-mail's subject, footer and headers, when e-mail is on
    email_opt_out: EmailOptOut | None = None  # /u/<token>: one-click opt-out (needs the link secret)
    imap: ImapPoller | None = None  # fetches e-mail replies when ACORDO_IMAP_* is set
    on_rate_limit_wait: RateLimitWaitHook | None = None  # the metrics of this process
    _dispatchers: list[OutboxDispatcher] = field(default_factory=list)

    @property
    def senders(self) -> dict[str, Channel]:
        """Channels sent through the outbox (all but web, which answers in its response)."""
        return {name: channel for name, channel in self.channels.items() if name != "web"}

    def new_dispatcher(self, worker_id: str | None = None, **options: Any) -> OutboxDispatcher:
        options = {"media": self.media, "on_rate_limit_wait": self.on_rate_limit_wait,
                   "mail": self.mail, **options}
        dispatcher = OutboxDispatcher(
            self.uow, self.senders, self.limiter, self.rates, clock=self.clock,
            worker_id=worker_id, max_attempts=self.settings.outbox_max_attempts, **options)
        self._dispatchers.append(dispatcher)
        return dispatcher

    def wake_outbox(self) -> None:
        for dispatcher in self._dispatchers:
            dispatcher.wake()

    def public_url(self, path_and_query: str, request_url: str) -> str:
        """The URL the provider signed: ``ACORDO_PUBLIC_URL`` + path when set (behind a proxy)."""
        base = self.settings.public_url
        return base.rstrip("/") + path_and_query if base else request_url

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """The app's background work: resume inbound updates, webhook, in-app outbox dispatch."""
        if not self.senders:
            yield
            return
        await self._set_webhook()
        resumed = await self.inbound.resume()
        if resumed:
            logger.info("resumed %d stored inbound updates", resumed)
        stop, stop_fetching = asyncio.Event(), asyncio.Event()
        task = fetching = None
        if self.settings.outbox_in_app:
            task = asyncio.create_task(self.new_dispatcher().run(stop))
        if self.imap is not None:
            fetching = asyncio.create_task(self.imap.run(stop_fetching))
        try:
            yield
        finally:
            stop_fetching.set()  # no new inbound, then finish what came in, then the outbox
            if fetching is not None:
                await fetching
            await self.inbound.wait_idle()
            stop.set()
            if task is not None:
                await task

    async def _set_webhook(self) -> None:
        settings = self.settings
        if self.telegram is None or settings.telegram_mode != "webhook" or not settings.public_url:
            return
        from bot.inbound.telegram_routes import ALLOWED_UPDATES

        secret = settings.telegram_webhook_secret
        assert secret is not None
        try:
            await self.telegram.bot.set_webhook(
                url=settings.public_url.rstrip("/") + TELEGRAM_WEBHOOK_PATH,
                secret_token=secret.get_secret_value(), allowed_updates=ALLOWED_UPDATES)
        except Exception as exc:  # the app still serves; the webhook can be set later
            logger.warning("could not set the Telegram webhook: %s", exc)


def channel_rates(settings: Settings) -> dict[str, ChannelRates]:
    margin = settings.rate_limit_margin
    return {
        "telegram": ChannelRates(settings.telegram_rate_per_second,
                                 settings.telegram_chat_rate_per_second, margin),
        "whatsapp": ChannelRates(settings.twilio_whatsapp_mps, settings.twilio_chat_rate_per_second, margin),
        "sms": ChannelRates(settings.twilio_sms_mps, settings.twilio_chat_rate_per_second, margin),
        "email": EmailRates(settings.email_rate_per_second, settings.email_chat_rate_per_second,
                            margin, sender_domain=_sender_domain(settings),
                            per_domain_per_second=settings.email_domain_rate_per_second),
    }


def _sender_domain(settings: Settings) -> str:
    return sender_address(settings.smtp_from).domain if settings.smtp_from else ""


def picture_channels(settings: Settings) -> set[str]:
    """Channels whose replies carry pictures: Telegram uploads them; Twilio fetches them from
    ``ACORDO_PUBLIC_URL``, so WhatsApp needs it; SMS never."""
    return {"telegram"} | ({"whatsapp"} if settings.public_url else set())


@dataclass
class _Adapters:
    """The channels built so far, the inbound handlers they bring and what closes them."""

    channels: dict[str, Channel]
    handlers: dict[str, UpdateHandler] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    runtime_parts: dict[str, Any] = field(default_factory=dict)  # ChannelRuntime's optional fields


@asynccontextmanager
async def build_channel_runtime(settings: Settings, uow: UnitOfWorkFactory,
                                conversations: ConversationService, renderer: TemplateRenderer,
                                clock: Clock, *, on_rate_limit_wait: RateLimitWaitHook | None = None,
                                policies: PolicyBook | None = None,
                                ) -> AsyncIterator[ChannelRuntime]:
    """Build every configured channel; close their HTTP sessions at exit.

    ``on_rate_limit_wait(channel, seconds)`` is called by every dispatcher of this process
    when a send waited for its rate-limit slot (the process' metrics).
    """
    adapters = _Adapters(channels={"web": WebChannel()})
    limiter, close_limiter = build_rate_limiter(settings.redis_url)
    if close_limiter is not None:
        adapters.closers.append(close_limiter)
    dispatchers: list[OutboxDispatcher] = []  # the runtime's; a queued reply wakes them
    inbox = ChannelInbox(uow, conversations, renderer, settings.default_locale,
                         wake_outbox=lambda: _wake(dispatchers),
                         picture_channels=picture_channels(settings))
    links = TelegramLinks(uow, clock, timedelta(hours=settings.telegram_link_ttl_hours))
    try:
        _add_telegram(adapters, settings, inbox, links)
        _add_twilio(adapters, settings, clock, inbox)
        _add_email(adapters, settings, clock, uow, renderer, policies, inbox)
        inbound = InboundProcessor(uow, adapters.handlers, clock)
        yield ChannelRuntime(
            settings=settings, channels=adapters.channels, outbox=Outbox(uow), inbox=inbox,
            inbound=inbound, imap=_imap(settings, inbound, "email" in adapters.channels),
            links=links, limiter=limiter,
            rates=channel_rates(settings), uow=uow, clock=clock,
            media=PixQrPictures(uow, settings.public_url),
            email_opt_out=EmailOptOut(uow, policies or PolicyBook({}), mail_tokens(settings)),
            on_rate_limit_wait=on_rate_limit_wait, _dispatchers=dispatchers, **adapters.runtime_parts)
    finally:
        for close in reversed(adapters.closers):
            with contextlib.suppress(Exception):
                await close()


def _wake(dispatchers: list[OutboxDispatcher]) -> None:
    for dispatcher in dispatchers:
        dispatcher.wake()


def _add_telegram(adapters: _Adapters, settings: Settings, inbox: ChannelInbox,
                  links: TelegramLinks) -> None:
    if settings.telegram_token is None:
        return
    if settings.telegram_mode == "webhook" and not settings.telegram_webhook_secret:
        raise ChannelConfigurationError(
            "Telegram webhook mode needs ACORDO_TELEGRAM_WEBHOOK_SECRET "
            "(or use `acordo telegram poll` for local development)")
    from bot.channels.telegram import TelegramChannel, build_bot
    from bot.inbound.telegram_routes import build_dispatcher

    bot = build_bot(settings.telegram_token.get_secret_value(), settings.telegram_api_url,
                    settings.channel_send_timeout_seconds)
    adapters.closers.append(bot.session.close)
    telegram = TelegramChannel(bot, settings.channel_send_timeout_seconds)
    dispatcher = build_dispatcher(inbox=inbox, links=links,
                                  receipt_max_bytes=settings.receipt_max_bytes)
    adapters.channels["telegram"] = telegram
    adapters.runtime_parts.update(telegram=telegram, telegram_dispatcher=dispatcher)

    async def feed_telegram(payload: Mapping[str, Any], claim: UpdateClaim) -> None:
        await dispatcher.feed_raw_update(bot, dict(payload), claim=claim)

    adapters.handlers["telegram"] = feed_telegram


def _add_twilio(adapters: _Adapters, settings: Settings, clock: Clock, inbox: ChannelInbox) -> None:
    twilio_on = settings.twilio_account_sid and settings.twilio_auth_token
    senders = {"whatsapp": settings.twilio_whatsapp_from, "sms": settings.twilio_sms_from}
    if not (twilio_on and any(senders.values())):
        return
    from twilio.request_validator import RequestValidator

    from bot.channels.twilio import TwilioChannel, build_twilio_client

    assert settings.twilio_account_sid and settings.twilio_auth_token
    token = settings.twilio_auth_token.get_secret_value()
    client = build_twilio_client(settings.twilio_account_sid, token, settings.twilio_api_url,
                                 settings.channel_send_timeout_seconds)
    adapters.closers.append(client.http_client.close)
    adapters.runtime_parts["twilio_validator"] = RequestValidator(token)
    # Receipts sent as media: fetched from Twilio with the account's basic auth.
    media_client = httpx.AsyncClient(timeout=settings.channel_send_timeout_seconds)
    adapters.closers.append(media_client.aclose)
    receipts = ReceiptFetcher(media_client, settings.twilio_api_url,
                              (settings.twilio_account_sid, token), settings.receipt_max_bytes)
    callback = settings.public_url.rstrip("/") + TWILIO_STATUS_PATH if settings.public_url else None
    for kind, sender in senders.items():
        if not sender:
            continue
        channel = TwilioChannel(client, kind, sender, status_callback=callback,
                                templates=settings.whatsapp_templates, now=clock.now,
                                sms_max_segments=settings.sms_max_segments)
        adapters.channels[kind] = channel
        adapters.handlers[kind] = _twilio_handler(channel, inbox, receipts)


def mail_tokens(settings: Settings) -> MailTokens | None:
    """The e-mails' opt-out and reply tokens, signed with ``ACORDO_LINK_SECRET`` (when set)."""
    secret = settings.link_secret.get_secret_value() if settings.link_secret else ""
    return MailTokens(secret) if secret else None


def _add_email(adapters: _Adapters, settings: Settings, clock: Clock, uow: UnitOfWorkFactory,
               renderer: TemplateRenderer, policies: PolicyBook | None, inbox: ChannelInbox) -> None:
    """E-mail over SMTP when ``ACORDO_SMTP_HOST`` and ``ACORDO_SMTP_FROM`` are set."""
    if not (settings.smtp_host and settings.smtp_from):
        return
    from bot.channels.email import DkimKey, EmailChannel, SmtpServer
    from bot.services.email_inbound import EmailInbound
    from bot.services.outbox.mail import MailIdentity

    sender = sender_address(settings.smtp_from)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    server = SmtpServer(settings.smtp_host, settings.smtp_port, settings.smtp_security,
                        settings.smtp_user, password, settings.channel_send_timeout_seconds)
    dkim_key = None
    if settings.dkim_selector and settings.dkim_key_file:
        dkim_key = DkimKey(settings.dkim_selector, settings.dkim_key_file.read_bytes())
    channel = EmailChannel(server, sender, reply_domain=settings.smtp_reply_domain, now=clock.now,
                           dkim_key=dkim_key)
    adapters.channels["email"] = channel
    identity = MailIdentity(sender, channel.domain, settings.public_url, mail_tokens(settings))
    adapters.runtime_parts["mail"] = MailComposer(uow, policies or PolicyBook({}), renderer, identity)
    replies = EmailInbound(uow, inbox, Outbox(uow), channel.domain, mail_tokens(settings),
                           settings.receipt_max_bytes)
    adapters.handlers["email"] = replies.handle


def _imap(settings: Settings, inbound: InboundProcessor, email_on: bool) -> ImapPoller | None:
    """The IMAP poller when ``ACORDO_IMAP_HOST`` and the e-mail channel are set."""
    if not (settings.imap_host and settings.imap_user and email_on):
        return None
    password = settings.imap_password.get_secret_value() if settings.imap_password else ""
    mailbox = ImapMailbox(settings.imap_host, settings.imap_port, settings.imap_user, password,
                          settings.imap_security, settings.imap_mailbox,
                          timeout=settings.channel_send_timeout_seconds)
    return ImapPoller(mailbox, inbound, settings.imap_poll_seconds)


def _twilio_handler(channel: Any, inbox: ChannelInbox, receipts: ReceiptFetcher) -> UpdateHandler:
    async def handle(payload: Mapping[str, Any], claim: UpdateClaim) -> None:
        message = channel.parse_inbound(payload)
        if message is not None:
            files = await receipts.fetch(message.media) if message.media else []
            await inbox.receive(message, claim, receipts=files)

    return handle
