"""Money amounts and percentages in chat text.

Reading numbers: a separator followed by exactly three digits groups thousands and one
followed by one or two digits marks the decimals, whichever character it is, so "1.500",
"1,500", "1.500,00" and "1,500.00" all read 1500 and "1,5k" / "1.5k" read 1500. Money is
never written with three decimals, so the one ambiguous form, "1.500", reads 1500 in
either locale. A number with both separators takes the last one as the decimal mark.

A number is an amount unless its neighbours say it is something else: an installment
count ("6x", "em 10 vezes", "seis parcelas"), a percent ("50%"), a day or a date
("dia 15", "15/12", "15th", "10 de dezembro"), a duration ("30 dias", "12 meses"), a time
("15h", "15:30") or a year ("em 2027"). Numbers glued to "/", ":" or "-" (dates, times,
phone numbers, CPF) are never amounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from bot.understanding.normalize import normalize

__all__ = ["AmountMatch", "PercentMatch", "find_amounts", "find_percents"]

_NUMERIC_RUN = re.compile(r"[0-9](?:[0-9.,/:\-]*[0-9])?")
_GROUPED = re.compile(r"[0-9]{1,3}(?:([.,])[0-9]{3})(?:\1[0-9]{3})*")

_MONTHS = (
    r"jan(?:eiro|uary)?|fev(?:ereiro)?|feb(?:ruary)?|mar(?:co|ch)?|abr(?:il)?|apr(?:il)?|"
    r"mai(?:o)?|may|jun(?:ho|e)?|jul(?:ho|y)?|ago(?:sto)?|aug(?:ust)?|set(?:embro)?|"
    r"sep(?:t|tember)?|out(?:ubro)?|oct(?:ober)?|nov(?:embro|ember)?|dez(?:embro)?|"
    r"dec(?:ember)?"
)

# What may follow a number that is NOT an amount.
_NOT_AMOUNT_AFTER = re.compile(
    r"\s*(?:(?:monthly|equal|weekly|mensais|iguais|fixas|semanais)\s+(?=[a-z]+s\b))?(?:"
    r"x\b|vez\b|vezes\b|parcelas?\b|prestacoes\b|prestacao\b|pagamentos\b|boletos\b|"
    r"mensalidades\b|installments\b|payments\b|times\b|%|#|"
    r"dias?\b|d\b|days?\b|semanas?\b|weeks?\b|mes\b|meses\b|months?\b|anos?\b|years?\b|"
    r"h\b|hr|hs\b|horas?\b|hours?\b|min\b|minutos?\b|am\b|pm\b|"
    r"th\b|st\b|nd\b|rd\b|\)\s*[0-9]{4}|"
    rf"(?:de\s+|of\s+)?(?:{_MONTHS})\b"
    r")"
)
# What may precede a number that is NOT an amount.
_NOT_AMOUNT_BEFORE = re.compile(
    r"(?:\b(?:dia|dias|day|on the)|\bh|"
    r"\b(?:parcel\w*|divid\w*|pag\w*|split(?: it)?)\s+(?:em|in|into)(?:\s+ate)?|"
    rf"\b(?:{_MONTHS})\.?)\s*$"
)
_YEAR_BEFORE = re.compile(r"\b(?:em|ate|in|by|until|ano|year)\s*$")
_MAGNITUDE_AFTER = re.compile(r"\s*(k|kk)\b")
_THOUSAND_AND = re.compile(r"\s+(?:e|and)\s+([0-9]{1,3})(?![0-9.,/:\-])")
_CURRENCY_BEFORE = re.compile(r"(?:r\$|us\$|\$|brl|usd)\s*$")

_PERCENT = re.compile(r"(?<![0-9.,])([0-9]{1,3}(?:[.,][0-9]{1,2})?)\s*%")
_HALF = re.compile(r"\b(?:metade|half)\b")


@dataclass(frozen=True, slots=True)
class AmountMatch:
    """An amount found in normalised text, with its span in that text."""

    value: Decimal
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PercentMatch:
    value: Decimal
    start: int
    end: int


def read_number(token: str) -> Decimal | None:
    """Value of a run of digits and separators, or None when it is not a well-formed number."""
    if not token or not token[0].isdigit() or not token[-1].isdigit():
        return None
    marks = [ch for ch in token if ch in ".,"]
    if not marks:
        return Decimal(token)
    last = max(token.rfind("."), token.rfind(","))
    integer_part, decimals = token[:last], token[last + 1 :]
    if len(decimals) == 3 and _GROUPED.fullmatch(token) and not token.startswith("0"):
        return Decimal(token.replace(".", "").replace(",", ""))
    if len(decimals) not in (1, 2):
        return None
    if any(ch in ".," for ch in integer_part):
        if not _GROUPED.fullmatch(integer_part) or token[last] in integer_part:
            return None
        integer_part = integer_part.replace(".", "").replace(",", "")
    return Decimal(f"{integer_part}.{decimals}")


def _scaled(value: Decimal, factor: int) -> Decimal:
    scaled = value * factor
    return scaled.quantize(Decimal(1)) if scaled == scaled.to_integral_value() else scaled


def find_amounts(text: str, locale: str = "pt-BR") -> list[AmountMatch]:
    """Amounts in ``text`` with their spans in ``normalize(text).plain``."""
    plain = normalize(text, locale).plain
    found: list[AmountMatch] = []
    consumed_until = -1
    for run in _NUMERIC_RUN.finditer(plain):
        if run.start() < consumed_until or any(ch in "/:-" for ch in run.group()):
            continue
        try:
            value = read_number(run.group())
        except InvalidOperation:  # pragma: no cover - read_number validates first
            value = None
        if value is None:
            continue
        before = plain[max(0, run.start() - 24) : run.start()]
        after = plain[run.end() : run.end() + 24]
        has_currency = bool(_CURRENCY_BEFORE.search(before))
        if not has_currency and (
            _NOT_AMOUNT_AFTER.match(after) or _NOT_AMOUNT_BEFORE.search(before)
        ):
            continue
        if has_currency and re.match(r"\s*%", after):
            continue
        end = run.end()
        magnitude = _MAGNITUDE_AFTER.match(after)
        if magnitude:
            value = _scaled(value, 1000 if magnitude.group(1) == "k" else 1_000_000)
            end += magnitude.end()
            if magnitude.group(1) == "k":
                # "2 mil e 500", "2 mil e quinhentos" -> 2500
                extra = _THOUSAND_AND.match(plain, end)
                if extra and not _NOT_AMOUNT_AFTER.match(plain, extra.end()):
                    value += Decimal(extra.group(1))
                    end = extra.end()
        elif (
            not has_currency
            and value == value.to_integral_value()
            and 1990 <= value <= 2100
            and _YEAR_BEFORE.search(before)
        ):
            continue
        found.append(AmountMatch(value, run.start(), end))
        consumed_until = end
    return found


def find_percents(text: str, locale: str = "pt-BR") -> list[PercentMatch]:
    """Percentages in ``text`` ("50%", "cinquenta por cento", "10 percent", "metade")."""
    plain = normalize(text, locale).plain
    found = [
        PercentMatch(Decimal(m.group(1).replace(",", ".")), m.start(), m.end())
        for m in _PERCENT.finditer(plain)
    ]
    found += [PercentMatch(Decimal(50), m.start(), m.end()) for m in _HALF.finditer(plain)]
    return sorted((p for p in found if p.value <= 100), key=lambda p: p.start)
