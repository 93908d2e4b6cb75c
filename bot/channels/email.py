"""E-mail over SMTP (``aiosmtplib``): the ``Channel`` adapter.

Configured by ``ACORDO_SMTP_*`` (host, port, security ``starttls``/``tls``/``none``, user,
password, from, reply domain). Each outbox row becomes one multipart e-mail (text and HTML
from the same rendered template, ``bot/channels/email_mime.py``) with the subject, footer,
reply and opt-out headers the outbox's composer put in :attr:`OutboundMessage.mail`.

Sending once: SMTP has no idempotency key, so the ``Message-ID`` is derived from the outbox
row's key (the same on every retry) and this process remembers the keys it sent. A crash
between the server's "250 OK" and the outbox recording it can send the e-mail again after
the lease; it then carries the same ``Message-ID``, which mail clients show once.

DKIM: with ``ACORDO_DKIM_SELECTOR`` and ``ACORDO_DKIM_KEY_FILE`` set, every e-mail is signed
(``dkimpy``, relaxed/relaxed, rsa-sha256) over its identity, threading and opt-out headers.

Errors: a 5xx refusal of the recipient (``550 no such user``) is :class:`Undeliverable` and
marks the address unreachable; 4xx, timeouts and lost connections are :class:`RetryLater`;
other 5xx (the message refused, not the address) are :class:`Undeliverable` only.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.policy import SMTP as SMTP_POLICY
from typing import Any, Literal

import aiosmtplib
import dkim

from bot.channels.base import (
    DeliveryReport,
    InboundMessage,
    MailParts,
    OutboundMessage,
    RetryLater,
    SendReceipt,
    Undeliverable,
)
from bot.channels.email_inbound import delivery_report, inbound_message
from bot.channels.email_mime import build_message, message_id

SENT_MEMORY = 10_000
SIGNED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Reply-To", "In-Reply-To",
                  "References", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version",
                  "Content-Type")  # keys of e-mails this process sent, answered without sending again


@dataclass(frozen=True)
class DkimKey:
    """DKIM signing (``dkimpy``): the selector and the RSA private key (PEM) of the sender's
    domain; receivers find the public key at ``<selector>._domainkey.<domain>``."""

    selector: str
    private_key: bytes = field(repr=False)
    domain: str = ""

    def sign(self, raw: bytes, domain: str) -> bytes:
        """``raw`` with its ``DKIM-Signature`` header first (relaxed/relaxed, rsa-sha256)."""
        signature = dkim.sign(raw, self.selector.encode(), (self.domain or domain).encode(),
                              self.private_key, canonicalize=(b"relaxed", b"relaxed"),
                              include_headers=[h.encode() for h in SIGNED_HEADERS])
        return bytes(signature) + raw


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0
    tls_context: ssl.SSLContext | None = None  # tests: trust a test CA

    def options(self) -> dict[str, Any]:
        """``aiosmtplib.SMTP``'s arguments (it logs in on connect when a user is set)."""
        return {"hostname": self.host, "port": self.port, "username": self.user,
                "password": self.password, "timeout": self.timeout,
                "use_tls": self.security == "tls", "start_tls": self.security == "starttls",
                "tls_context": self.tls_context}


class SmtpConnections:
    """Up to ``size`` open SMTP connections, each reused for the next e-mail: a new TCP (and
    TLS) handshake per message is what slows a sender most. A connection that fails is closed
    and never reused; a reused one the server had closed meanwhile is replaced once."""

    def __init__(self, server: SmtpServer, size: int = 4) -> None:
        self._server = server
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(size)

    async def _open(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(**self._server.options())
        await client.connect()
        return client

    async def send(self, sender: str, recipient: str, payload: bytes
                   ) -> tuple[dict[str, Any], str]:
        async with self._slots:
            reused = self._idle.pop() if self._idle else None
            client = reused if reused is not None and reused.is_connected else await self._open()
            try:
                result = await client.sendmail(sender, [recipient], payload)
            except aiosmtplib.SMTPServerDisconnected:
                client.close()
                if client is not reused:
                    raise
                client = await self._open()  # the server closed an idle connection: once more
                result = await self._send_once(client, sender, recipient, payload)
            except BaseException:
                client.close()
                raise
            self._idle.append(client)
            return result

    @staticmethod
    async def _send_once(client: aiosmtplib.SMTP, sender: str, recipient: str, payload: bytes
                         ) -> tuple[dict[str, Any], str]:
        try:
            return await client.sendmail(sender, [recipient], payload)
        except BaseException:
            client.close()
            raise


class EmailChannel:
    """``send`` one e-mail per outbox row; ``parse_inbound`` reads a fetched e-mail
    (``{"raw": "<RFC 5322 text>"}``); ``parse_status`` reads a bounce (RFC 3464)."""

    def __init__(self, server: SmtpServer, sender: Address, *, reply_domain: str | None = None,
                 now: Callable[[], datetime], dkim_key: DkimKey | None = None) -> None:
        self._pool = SmtpConnections(server)
        self._dkim = dkim_key
        self._sender = sender
        self.domain = (reply_domain or sender.domain).lower()
        self._now = now
        self._sent: OrderedDict[str, str] = OrderedDict()

    @property
    def name(self) -> str:
        return "email"

    @property
    def sender(self) -> Address:
        return self._sender

    def parse_inbound(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        return inbound_message(payload, own_domain=self.domain)

    def parse_status(self, payload: Mapping[str, Any]) -> DeliveryReport | None:
        return delivery_report(payload)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        key = message.idempotency_key
        known = self._sent.get(key)
        if known is not None:
            return SendReceipt(known)
        parts = message.mail or MailParts(subject=_first_line(message.text))
        mail = build_message(sender=self._sender, to=message.address, text=message.text,
                             parts=parts, key=key, domain=self.domain, now=self._now(),
                             picture=message.media)
        payload = mail.as_bytes(policy=SMTP_POLICY)
        if self._dkim is not None:
            payload = self._dkim.sign(payload, self._sender.domain)
        try:
            refused, _ = await self._pool.send(self._sender.addr_spec, message.address, payload)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _refused(exc.recipients[0] if exc.recipients else None) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _classify(exc.code, exc.message) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise RetryLater(f"smtp: {type(exc).__name__}: {exc}"[:400]) from exc
        if refused:  # some servers answer per recipient without raising
            raise _classify(*next(iter(refused.values())))
        sent_id = message_id(key, self.domain)
        self._remember(key, sent_id)
        return SendReceipt(sent_id)

    def _remember(self, key: str, sent_id: str) -> None:
        self._sent[key] = sent_id
        while len(self._sent) > SENT_MEMORY:
            self._sent.popitem(last=False)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _refused(error: aiosmtplib.SMTPRecipientRefused | None) -> Exception:
    if error is None:
        return RetryLater("smtp: recipient refused")
    return _classify(error.code, error.message, recipient=True)


def _classify(code: int, text: str, *, recipient: bool = False) -> Exception:
    reason = f"smtp {code}: {text}"[:400]
    if 400 <= code < 500:
        return RetryLater(reason)
    return Undeliverable(reason, unreachable=recipient and code in (550, 551, 553))
