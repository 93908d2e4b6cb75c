"""SMS segment arithmetic: GSM-7 vs UCS-2, and shortening a text to a number of segments.

A text made only of GSM 03.38 characters is sent as GSM-7: 160 characters in one
segment, 153 per segment when concatenated; the extension table (``^{}[]~|€\\``) costs
two. Anything else, and most accented Portuguese (``ã``, ``ç``, ``á``...), forces UCS-2:
70 UTF-16 code units in one segment, 67 per segment when concatenated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
ELLIPSIS = "…"


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
    """``text`` unchanged if it fits ``max_segments``, else cut at a word and ended with ``…``."""
    if count_segments(text).segments <= max_segments:
        return text
    words = text.split(" ")
    while words:
        words.pop()
        candidate = " ".join(words).rstrip(" ,.;:") + ELLIPSIS
        if count_segments(candidate).segments <= max_segments:
            return candidate
    cut = text
    while cut and count_segments(cut + ELLIPSIS).segments > max_segments:
        cut = cut[:-1]
    return cut + ELLIPSIS
