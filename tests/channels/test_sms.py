"""SMS segments: GSM-7 vs UCS-2 (accented Portuguese), concatenation and shortening."""

from __future__ import annotations

import pytest

from bot.channels.sms import count_segments, shorten


@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("Bom dia", "GSM-7", 1),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("{" * 80, "GSM-7", 1),          # extension characters cost two septets
    ("{" * 81, "GSM-7", 2),
    ("Olá, tudo bem?", "UCS-2", 1),  # á is not in GSM 03.38
    ("ç" * 70, "UCS-2", 1),
    ("ç" * 71, "UCS-2", 2),
    ("ç" * 134, "UCS-2", 2),
    ("ç" * 135, "UCS-2", 3),
    ("🙏" * 35, "UCS-2", 1),          # one emoji is two UTF-16 units
    ("é à ü Ç ñ", "GSM-7", 1),        # these are in GSM 03.38
])
def test_count_segments(text: str, encoding: str, segments: int) -> None:
    counted = count_segments(text)
    assert (counted.encoding, counted.segments) == (encoding, segments)


def test_shorten_cuts_at_a_word_to_fit() -> None:
    text = "Sua negociação está pronta: " + "parcela em aberto " * 20
    short = shorten(text, 2)
    assert count_segments(short).segments <= 2 and short.endswith("…")
    assert text.startswith(short[:-1].rstrip())
    assert shorten("curto", 1) == "curto"
