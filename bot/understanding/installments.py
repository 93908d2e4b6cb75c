"""Installment counts in chat text: "6x", "em 10 vezes", "seis parcelas", "in 4 installments".

Counts are read from the ``counting`` form of the text, where "duas parcelas" is already
"2 parcelas". Accepted forms, earliest in the text wins:

- ``N x`` ("6x", "6 x", "6x de 500");
- ``N parcelas|prestacoes|pagamentos|boletos|mensalidades|installments|payments``, with up
  to two words between ("4 monthly payments", "3 parcelas iguais");
- ``N vezes`` after "em" or a payment verb ("em 10 vezes", "pago 10 vezes"), or followed
  by "de <valor>" / "sem juros" / "no cartao"; "ja liguei 3 vezes" is not a count;
- ``parcelar/dividir/split em|in|into N`` ("parcelo em 10");
- ``N meses|months`` only when phrased as a parcelamento: after "parcelar/dividir em",
  "durante", "over", or in a text that talks about installments or a monthly amount
  ("12 meses de 300", "500 por mes durante 12 meses"). "daqui 2 meses" is a date;
- a single payment: "a vista", "de uma vez", "parcela unica", "in full", "lump sum" -> 1.

Counts outside 1..120 are ignored (no plan runs longer than ten years of monthly payments).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.understanding.normalize import normalize

__all__ = ["InstallmentMatch", "find_installments"]

MAX_INSTALLMENTS = 120

_COUNT_X = re.compile(r"(?<![0-9.,])([0-9]{1,3})\s*x\b(?!\s*[0-9]+\s*x\b)")
_COUNT_NOUN = re.compile(
    r"(?<![0-9.,])([0-9]{1,3})\s+(?:[a-z]+\s+){0,2}?"
    r"(?:parcelas?|prestacoes|prestacao|pagamentos|boletos|mensalidades|"
    r"installments?|payments|parcels)\b"
)
_COUNT_TIMES = re.compile(r"(?<![0-9.,])([0-9]{1,3})\s+(?:vezes|vez|times)\b")
_TIMES_BEFORE_OK = re.compile(
    r"(?:\b(?:em|in|ate|pag\w*|parcel\w*|divid\w*|fa[cz]\w*|consigo|posso|pay|da pra|rola)"
    r"(?:\s+(?:em|in|ate|ate em))?)\s*$"
)
_TIMES_AFTER_OK = re.compile(
    r"\s*(?:de\b|of\b|sem juros|no cartao|no boleto|iguais|r\$|\$|[0-9])"
)
_SPLIT_INTO = re.compile(
    r"\b(?:parcel\w*|divid\w*|split(?:\s+(?:it|that|this))?)\s+(?:em|in|into|por)\s+"
    r"(?:ate\s+)?([0-9]{1,3})(?![0-9.,])(?!\s*(?:dias?|days?|semanas?|weeks?|d\b|%|#|k\b))"
)
_COUNT_MONTHS = re.compile(r"(?<![0-9.,])([0-9]{1,3})\s+(?:meses|months|mes|month)\b")
_MONTHS_BEFORE_OK = re.compile(
    r"(?:\b(?:parcel\w*|divid\w*|split(?:\s+it)?)(?:\s+(?:em|in|into))?|\bdurante|\bover|"
    r"\bpor|\bfor|\bem)\s*(?:ate\s+)?$"
)
_MONTHS_PHRASED_AS_PLAN = re.compile(
    r"\b(?:(?:parcel\w*|divid\w*)(?:\s+(?:em|in|into))?|durante|over|"
    r"pag(?:o|ar|aria|amos|ando)\s+em|pay(?:\s+it)?\s+(?:over|in))\s*(?:ate\s+)?$"
)
_MONTHS_BEFORE_NEVER = re.compile(r"\b(?:daqui(?:\s+a)?|ha|faz|ago|dentro de)\s*$")
_PARCELAMENTO_TALK = re.compile(
    r"\b(?:parcel\w*|prestac\w*|mensa\w*|por mes|ao mes|todo mes|cada mes|"
    r"monthly|a month|per month|each month|installments?|divid\w*)\b"
)
_MONTHS_AFTER_OK = re.compile(r"\s*(?:de\s+(?:r\$\s*)?[0-9]|of\s+\$?\s*[0-9])")
_SINGLE_PAYMENT = re.compile(
    r"\b(?:a\s*vista|avista|de\s+(?:1|uma)\s+vez(?:\s+so)?|(?:numa|em\s+1|em\s+uma)\s+vez(?:\s+so)?|"
    r"de\s+uma\s+so\s+vez|parcela\s+unica|pagamento\s+unico|(?:1|uma)\s+parcela\s+so|"
    r"em\s+(?:1|uma)\s+parcela\b|(?:1|um)\s+pagamento\s+so|pagamento\s+a\s+vista|"
    r"in\s+full|lump\s*sum|(?:in\s+)?(?:1|one|a\s+single)\s+payment\b|one[-\s]?time\s+payment|"
    r"(?:1|one)[-\s]?off\s+payment|all\s+at\s+once|(?:in\s+)?(?:1|one)\s+go)\b"
)


@dataclass(frozen=True, slots=True)
class InstallmentMatch:
    """An installment count found in ``normalize(text).counting``, with its span."""

    count: int
    start: int
    end: int


def find_installments(text: str, locale: str = "pt-BR") -> list[InstallmentMatch]:
    counting = normalize(text, locale).counting
    found: list[InstallmentMatch] = []

    def add(count: int, start: int, end: int) -> None:
        if 1 <= count <= MAX_INSTALLMENTS and not any(
            m.start < end and start < m.end for m in found
        ):
            found.append(InstallmentMatch(count, start, end))

    for m in _SINGLE_PAYMENT.finditer(counting):
        add(1, m.start(), m.end())
    for pattern in (_COUNT_X, _COUNT_NOUN, _SPLIT_INTO):
        for m in pattern.finditer(counting):
            add(int(m.group(1)), m.start(), m.end())
    for m in _COUNT_TIMES.finditer(counting):
        before = counting[max(0, m.start() - 30) : m.start()]
        if _TIMES_BEFORE_OK.search(before) or _TIMES_AFTER_OK.match(counting, m.end()):
            add(int(m.group(1)), m.start(), m.end())
    talks_parcelamento = bool(_PARCELAMENTO_TALK.search(counting))
    for m in _COUNT_MONTHS.finditer(counting):
        before = counting[max(0, m.start() - 30) : m.start()]
        if _MONTHS_BEFORE_NEVER.search(before):
            continue
        if (
            (_MONTHS_BEFORE_OK.search(before) and talks_parcelamento)
            or _MONTHS_PHRASED_AS_PLAN.search(before)
            or _MONTHS_AFTER_OK.match(counting, m.end())
        ):
            add(int(m.group(1)), m.start(), m.end())
    return sorted(found, key=lambda m: m.start)
