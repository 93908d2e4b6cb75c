"""How one outbound message becomes provider sends: a long text cut at the providers'
limits, captions, the idempotency key of each part, and the stored reference of a picture.

Pure (standard library only): the channel adapters and the outbox repository both use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

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
