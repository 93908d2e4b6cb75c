"""SMS segments: GSM-7 vs UCS-2 (accented Portuguese), concatenation and shortening."""

from __future__ import annotations

import pytest

from bot.channels.sms import count_segments, for_sms, gsm7_fold, shorten


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


@pytest.mark.parametrize(("text", "folded"), [
    ("Não há cobrança em aberto. Obrigação cumprida!", "Nao ha cobranca em aberto. Obrigacao cumprida!"),
    ("Você é ótimo • à vista “já”…", 'Voce é otimo - à vista "ja"...'),
    ("1ª parcela, 2º aviso", "1a parcela, 2o aviso"),
    ("Obrigado 🙏", None),        # an emoji has no GSM-7 form: the text stays UCS-2
    ("Привет", None),
])
def test_gsm7_fold_drops_what_gsm7_lacks(text: str, folded: str | None) -> None:
    assert gsm7_fold(text) == folded
    if folded is not None:
        assert count_segments(folded).encoding == "GSM-7"


def test_for_sms_folds_only_when_it_saves_segments() -> None:
    assert for_sms("Olá") == "Olá"  # one segment either way: sent as written
    long = "Olá, Ana! A sua negociação está disponível, com condições especiais. " * 3
    assert count_segments(long).segments == 4
    assert for_sms(long) == gsm7_fold(long) and count_segments(for_sms(long)).segments == 2
    assert for_sms("🙏 " * 40) == "🙏 " * 40


def test_shorten_keeps_a_gsm7_text_in_gsm7() -> None:
    text = "Sua negociacao esta pronta: " + "parcela em aberto " * 30
    short = shorten(text, 2)
    assert short.endswith("...") and text.startswith(short[:-3].rstrip())
    assert count_segments(short).encoding == "GSM-7" and count_segments(short).segments == 2
