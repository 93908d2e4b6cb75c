"""The ``Channel`` port: parse inbound, send outbound, report delivery status.

Every adapter (Telegram, Twilio WhatsApp, Twilio SMS, web, fake) implements it, and one
contract suite (``tests/channels/test_contract.py``) runs against each. Adapters raise
the three :class:`ChannelError` kinds below; the outbox dispatcher turns them into a retry
(:class:`RetryLater`), a terminal failure that leaves the contact reachable
(:class:`Refused`), or a terminal failure that marks the contact unreachable on that
channel (:class:`Undeliverable` with ``unreachable=True``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


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
CAPTION_MAX_CHARS = 1024


def utf16_len(text: str) -> int:
    """The length of ``text`` as Telegram counts it: UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


# The longest text one send may carry: Telegram's sendMessage (UTF-16 code units, "message
# is too long") and a WhatsApp Body through Twilio (characters, error 21617). SMS is
# shortened to its segments instead; the web chat has no limit.
TEXT_LIMITS: dict[str, tuple[int, Callable[[str], int]]] = {"telegram": (4096, utf16_len),
                                                            "whatsapp": (1600, len)}


def text_parts(channel: str, text: str) -> list[str]:
    """``text`` as the sends ``channel`` accepts it: ``[text]``, or for a text longer than
    the channel's limit its parts (:func:`split_text`)."""
    limit = TEXT_LIMITS.get(channel)
    if limit is None or limit[1](text) <= limit[0]:
        return [text]
    return split_text(text, limit[0], limit[1]) or [text]


def fits_caption(text: str) -> bool:
    """Whether ``text`` can go as the caption of a picture."""
    return utf16_len(text) <= CAPTION_MAX_CHARS


# Where a long text is best cut, best first: between paragraphs, between lines, between
# words. Each pattern takes the whitespace around the cut with it (dropped from the parts).
_CUTS = (re.compile(r"\s*\n[^\S\n]*\n\s*"), re.compile(r"\s*\n\s*"), re.compile(r"\s+"))


def split_text(text: str, limit: int, length: Callable[[str], int] = len) -> list[str]:
    """``text`` cut into parts of at most ``limit`` (as ``length`` counts: ``len`` for
    Twilio, :func:`utf16_len` for Telegram), in order, for a provider that refuses longer
    messages.

    A text within the limit is returned whole (``[text]``); an empty or blank text gives
    ``[]`` (nothing to send: the caller decides). Otherwise each part takes as much as fits
    up to its last paragraph break (blank line), else its last line break, else its last
    space; only a word longer than the limit is cut inside. The whitespace at a cut is
    dropped, nothing else: the parts hold every other character of ``text``, in order.
    (A single character wider than ``limit`` still goes whole.)
    """
    if limit < 1:
        raise ValueError(f"limit must be positive, not {limit}")
    if length(text) <= limit:
        return [text] if text.strip() else []
    parts: list[str] = []
    rest = text
    while length(rest) > limit:
        fit = _longest_fit(rest, limit, length)
        head, rest = _cut(rest, fit)
        if head.strip():
            parts.append(head)
    if rest.strip():
        parts.append(rest)
    return parts


def _longest_fit(text: str, limit: int, length: Callable[[str], int]) -> int:
    """How many characters of ``text`` fit within ``limit`` (at least one)."""
    low, high = 1, min(len(text), limit)  # the largest n with length(text[:n]) <= limit
    while low < high:
        middle = (low + high + 1) // 2
        if length(text[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def _cut(text: str, fit: int) -> tuple[str, str]:
    """``text`` cut at its best break whose head is the first ``fit`` characters or fewer."""
    for pattern in _CUTS:
        best = None
        for match in pattern.finditer(text):
            if match.start() > fit:
                break
            if match.start() > 0:
                best = match
        if best is not None:
            return text[:best.start()], text[best.end():]
    return text[:fit], text[fit:]


def part_key(key: str | None, number: int) -> str | None:
    """The idempotency key of part ``number`` (from 1) of a message sent in several parts:
    the first keeps the message's key, so a one-part send is keyed as before."""
    return key if key is None or number == 1 else f"{key}:part{number}"


@dataclass(frozen=True)
class MediaRef:
    """A picture by reference, as stored with a queued message (outbox ``media_kind`` and
    ``media_ref``): enough to rebuild it after a restart. ``pix_qr`` + a txid is the QR code
    of that PIX charge (``bot/services/payment_pictures.py``)."""

    kind: str
    ref: str


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
class InboundMessage:
    """A debtor's message as the pipeline needs it. ``provider_id`` dedupes provider retries."""

    channel: str
    address: str
    text: str
    provider_id: str


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
