"""SMS segment arithmetic: GSM-7 vs UCS-2, and shortening a text to a number of segments.

A text made only of GSM 03.38 characters is sent as GSM-7: 160 characters in one
segment, 153 per segment when concatenated; the extension table (``^{}[]~|€\\``) costs
two. Anything else, and most accented Portuguese (``ã``, ``ç``, ``á``...), forces UCS-2:
70 UTF-16 code units in one segment, 67 per segment when concatenated.

So a Portuguese text of 300 characters costs 5 segments as UCS-2 and 2 as GSM-7. Like
most Brazilian senders, :func:`for_sms` writes a text in GSM-7 when that costs fewer
segments: accents GSM-7 lacks are dropped (``não`` → ``nao``, ``ç`` → ``c``; ``é`` and
``à`` stay), typographic marks get their plain form (``•`` → ``-``, ``“”`` → ``"``,
``…`` → ``...``; the check mark ``✅`` is left out). The stored message keeps the text as
written.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
ELLIPSIS = "…"
# Typographic marks with no GSM-7 form of their own, and the plain text that stands for them
# (the decorative check mark of a confirmation is left out).
PLAIN = {"•": "-", "–": "-", "—": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...",
         "ª": "a", "º": "o", "\u00a0": " ", "✅": "", "\ufe0f": ""}


@dataclass(frozen=True)
class SegmentCount:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int     # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(text: str, gsm: bool) -> int:
    if gsm:
        return sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    return len(text.encode("utf-16-le")) // 2


def count_segments(text: str) -> SegmentCount:
    gsm = is_gsm7(text)
    units = _units(text, gsm)
    single, multi = (160, 153) if gsm else (70, 67)
    segments = 1 if units <= single else math.ceil(units / multi)
    return SegmentCount("GSM-7" if gsm else "UCS-2", units, segments)


def shorten(text: str, max_segments: int) -> str:
    """``text`` unchanged if it fits ``max_segments``, else cut at a word and ended with ``…``
    (``...`` in a GSM-7 text, which ``…`` would turn into UCS-2)."""
    if count_segments(text).segments <= max_segments:
        return text
    ellipsis = "..." if is_gsm7(text) else ELLIPSIS
    words = text.split(" ")
    while words:
        words.pop()
        candidate = " ".join(words).rstrip(" ,.;:") + ellipsis
        if count_segments(candidate).segments <= max_segments:
            return candidate
    cut = text
    while cut and count_segments(cut + ellipsis).segments > max_segments:
        cut = cut[:-1]
    return cut + ellipsis


def gsm7_fold(text: str) -> str | None:
    """``text`` in GSM-7 (see the module's docstring), or ``None`` if some character has no
    plain form (an emoji, another script): such a text stays UCS-2."""
    out: list[str] = []
    for ch in text:
        if ch in GSM7_BASIC or ch in GSM7_EXTENSION:
            out.append(ch)
            continue
        plain = PLAIN.get(ch)
        if plain is None:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            plain = base if base and all(c in GSM7_BASIC for c in base) else None
        if plain is None:
            return None
        out.append(plain)
    return "".join(out)


def for_sms(text: str) -> str:
    """The text to send by SMS: its GSM-7 form when that costs fewer segments, else as is."""
    folded = gsm7_fold(text)
    if folded is None or count_segments(folded).segments >= count_segments(text).segments:
        return text
    return folded
