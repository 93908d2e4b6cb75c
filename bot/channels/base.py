"""The ``Channel`` port: parse inbound, send outbound, report delivery status.

Every adapter (Telegram, Twilio WhatsApp, Twilio SMS, web, fake) implements it, and one
contract suite (``tests/channels/test_contract.py``) runs against each. Adapters raise
the three :class:`ChannelError` kinds below; the outbox dispatcher turns them into a retry
(:class:`RetryLater`), a terminal failure that leaves the contact reachable
(:class:`Refused`), or a terminal failure that marks the contact unreachable on that
channel (:class:`Undeliverable` with ``unreachable=True``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

# Re-exported: the adapters and services import them from here.
from bot.message_parts import CAPTION_MAX_CHARS as CAPTION_MAX_CHARS
from bot.message_parts import TEXT_LIMITS as TEXT_LIMITS
from bot.message_parts import MediaRef as MediaRef
from bot.message_parts import fits_caption as fits_caption
from bot.message_parts import part_key as part_key
from bot.message_parts import split_text as split_text
from bot.message_parts import text_parts as text_parts
from bot.message_parts import utf16_len as utf16_len


class DeliveryState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    DELIVERED = "delivered"
    READ = "read"


# Status only moves forward: a late "sent" never overwrites "delivered".
_RANK = {DeliveryState.QUEUED: 0, DeliveryState.SENT: 1, DeliveryState.FAILED: 2,
         DeliveryState.DELIVERED: 3, DeliveryState.READ: 4}


def is_forward(current: str, new: str) -> bool:
    """Whether ``new`` is a later delivery state than ``current`` (unknown states never are)."""
    try:
        return _RANK[DeliveryState(new)] > _RANK[DeliveryState(current)]
    except ValueError:
        return False


@dataclass(frozen=True)
class ButtonSpec:
    title: str
    payload: str


# Telegram photo captions hold at most 1024 characters (UTF-16 code units), and so do
# WhatsApp image captions: a longer text goes as its own message after the picture.
@dataclass(frozen=True)
class MediaSpec:
    """A picture to send, rebuilt from a :class:`MediaRef` just before sending.

    ``png`` is the image itself (Telegram uploads it); ``url`` is where the provider can
    fetch it (Twilio only takes URLs: ``ACORDO_PUBLIC_URL/pay/<txid>.png``; ``None`` without
    a public URL). ``filename`` names the upload.
    """

    filename: str
    png: bytes | None = field(default=None, repr=False)
    url: str | None = None


class MediaResolver(Protocol):
    """Rebuilds a stored picture reference; ``None`` when it no longer exists."""

    async def resolve(self, media: MediaRef) -> MediaSpec | None: ...


@dataclass(frozen=True)
class InboundMedia:
    """A file the debtor sent (a receipt's picture or PDF), where the provider keeps it."""

    url: str
    content_type: str


@dataclass(frozen=True)
class Receipt:
    """A file fetched from the provider (accepted type, within the size limit)."""

    content_type: str
    content: bytes


@dataclass(frozen=True)
class InboundMessage:
    """A debtor's message as the pipeline needs it. ``provider_id`` dedupes provider retries;
    ``media``: the files sent with it (fetched by the channel's handler)."""

    channel: str
    address: str
    text: str
    provider_id: str
    media: tuple[InboundMedia, ...] = ()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf"
    content: bytes = field(repr=False)


@dataclass(frozen=True)
class MailParts:
    """What an e-mail carries besides the text, composed for one outbox row.

    ``footer``: the creditor's identification (name, CNPJ) and the opt-out line, in the
    contact's language. ``reply_to``: the plus-addressed reply address that names the
    conversation. ``unsubscribe_url``: the authenticated one-click opt-out (RFC 8058);
    ``unsubscribe_mailto`` the mail alternative. ``in_reply_to``/``references``: the
    debtor's last message, so the reply lands in the same thread of their mail client.
    """

    subject: str
    footer: str = ""
    reply_to: str | None = None
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    html_lang: str = "pt-BR"


@dataclass(frozen=True)
class OutboundMessage:
    """One message to send. ``template``/``template_vars``/``locale`` allow provider templates
    (WhatsApp Content SIDs); ``last_inbound_at`` is when the debtor last wrote on this channel.
    ``media``: a picture to send with the text (the text is its caption; an empty text sends
    the picture alone); channels that cannot carry it (SMS) send the text only."""

    channel: str
    address: str
    text: str
    idempotency_key: str
    buttons: Sequence[ButtonSpec] = ()
    template: str | None = None
    template_vars: Mapping[str, Any] = field(default_factory=dict)
    locale: str | None = None
    last_inbound_at: datetime | None = None
    media: MediaSpec | None = None
    mail: MailParts | None = None  # e-mail only: subject, footer, reply and opt-out headers


@dataclass(frozen=True)
class SendReceipt:
    provider_id: str
    state: DeliveryState = DeliveryState.SENT
    segments: int | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class DeliveryReport:
    provider_id: str
    state: DeliveryState
    error_code: str | None = None


class ChannelError(Exception):
    """Base of what :meth:`Channel.send` raises."""


class RetryLater(ChannelError):
    """Rate limited (429), provider 5xx or timeout: send again later with the same key.

    ``retry_after`` is the provider's own hint in seconds (Telegram), else ``None``
    (the dispatcher backs off exponentially with jitter).
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Refused(ChannelError):
    """Refused before calling the provider (WhatsApp 24-hour rule, no approved template)."""


class Undeliverable(ChannelError):
    """The provider refused for good. ``unreachable``: the contact blocked us or opted out there."""

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


@runtime_checkable
class Channel(Protocol):
    """A messaging channel adapter."""

    @property
    def name(self) -> str:
        """``web``, ``telegram``, ``whatsapp`` or ``sms`` (or ``fake``)."""
        ...

    def parse_inbound(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        """The debtor message in a provider payload, or ``None`` (not a private text message)."""
        ...

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Send once; raise :class:`RetryLater`, :class:`Refused` or :class:`Undeliverable`."""
        ...

    def parse_status(self, payload: Mapping[str, Any]) -> DeliveryReport | None:
        """A delivery status callback, or ``None`` if the channel has none / payload is not one."""
        ...
