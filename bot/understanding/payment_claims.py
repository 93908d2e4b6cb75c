"""What a debtor says about a payment already made: amount, date, reference and bank.

"já pagamos, o comprovante é o TED 88213 do dia 2, valor 3.100,00" and "ok here is the
receipt: TED 12345 on Dec 1" both state a *payment claim*. :func:`parse_payment_claim`
reads it; :func:`carries_payment_details` says whether a message adds anything to a
pending claim (a reference, a bank, a receipt, a past date or a past-tense payment verb), so
that such a message is never read as a proposal.

Rules (``today`` is the debtor's local day, passed in):

- **Reference**: a TED/DOC/PIX/boleto/"comprovante"/"receipt"/"transação"/"autenticação"/
  "protocolo"/"id" followed by a code with at least three digits ("TED 88213", "PIX nº
  4471-22", "receipt #A1B2C3") — kept as written, with its label ("TED 88213"); a PIX
  end-to-end id (``E`` + 31 letters and digits, starting with the 8-digit ISPB and the
  date) anywhere, upper-cased.
- **Amount**: read by :mod:`bot.understanding.amounts` once the references are blanked out
  (so "TED 88213" is no amount). The amount after "valor"/"value"/"amount"/"total" or
  with a currency sign wins; else the only amount; several without a cue: none (never guess).
- **Date**: read by :mod:`bot.understanding.dates`, then turned to the past: a payment was
  made on or before today. "dia 2" after the 2nd is this month's, before it last month's;
  "15/11" or "Dec 1" without a year is this year's unless that is still to come; a weekday
  is the last one (today counts as "hoje"); "ontem"/"yesterday", "anteontem"/"the day
  before yesterday". A date that can only be the future ("amanhã", "em 10 dias") is none.
- **Bank**: one of a short list of Brazilian banks, by name or common short form.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from bot.understanding.amounts import find_amounts
from bot.understanding.dates import find_dates
from bot.understanding.normalize import normalize

__all__ = ["PaymentClaimText", "carries_payment_details", "parse_payment_claim"]

_LABEL = (
    r"ted|doc|pix|boleto|transferencia|transferência|transfer|comprovante|recibo|receipt|"
    r"transa[cç][aã]o|transaction|autentica[cç][aã]o|authentication|protocolo|protocol|"
    r"c[oó]digo|code|id|ref|refer[eê]ncia|reference|nsu|doc\.?"
)
_REFERENCE = re.compile(
    rf"\b(?P<label>{_LABEL})\b\s*(?:(?:do|da|é|e|is|:|-|n\.?º?|no\.?|nº|numero|número|"
    r"number|#)\s*){0,3}"
    r"(?P<code>(?=[A-Za-z0-9.\-/]*[0-9](?:[A-Za-z0-9.\-/]*[0-9]){2})[A-Za-z0-9][A-Za-z0-9.\-/]{2,63})"
    r"(?<![.\-/])",
    re.IGNORECASE,
)
_END_TO_END = re.compile(r"\b[Ee][0-9]{8}[0-9]{12}[A-Za-z0-9]{11}\b")
_AMOUNT_CUE = re.compile(r"(?:valor|value|amount|total|quantia|montante|r\$|\$)\s*(?:de|of|:|=|é|e|was)?\s*$")
_RECEIPT = re.compile(
    r"\b(?:comprovantes?|recibos?|receipts?|proof|anexo|anexei|segue|attached|attaching|"
    r"screenshot|print)\b"
)
_PAID_VERB = re.compile(
    r"\b(?:paguei|pagamos|pagou|(?:ja|foi|esta|ta)\s+pag[oa]|quitei|quitamos|quitado|quitada|transferi|"
    r"transferimos|depositei|depositamos|fiz o pix|fizemos o pix|mandei o pix|paid|settled|"
    r"transferred|wired|deposited|sent the (?:pix|payment|money|transfer))\b"
)
_TRANSFER = re.compile(r"\b(?:ted|doc|transferencia|deposito|wire|bank transfer)\b")
_NOT_A_CODE = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]{1,2}[/.\-][0-9]{1,2}(?:[/.\-][0-9]{2,4})?")
_BEFORE_SPACE = re.compile(r"([0-9])([,.;])(\s|$)")
_YESTERDAY = re.compile(r"\b(?:ontem|yesterday)\b")
_DAY_BEFORE = re.compile(r"\b(?:anteontem|antes\s+de\s+ontem|day\s+before\s+yesterday)\b")
_MONTH_WORD = re.compile(r"[a-z]{3}")
_WEEKDAY_WORD = re.compile(
    r"\b(?:seg|ter|qua|qui|sex|sab|dom|mon|tue|wed|thu|fri|sat|sun)[a-z\-]*\b")
_BANKS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("Banco do Brasil", r"\b(?:banco do brasil|bco do brasil|bb)\b"),
        ("Itaú", r"\bita[uú]\b"),
        ("Bradesco", r"\bbradesco\b"),
        ("Santander", r"\bsantander\b"),
        ("Caixa", r"\b(?:caixa economica|caixa|cef)\b"),
        ("Nubank", r"\b(?:nubank|nu bank|roxinho)\b"),
        ("Inter", r"\b(?:banco inter|inter)\b"),
        ("Sicoob", r"\bsicoob\b"),
        ("Sicredi", r"\bsicredi\b"),
        ("BTG Pactual", r"\bbtg(?: pactual)?\b"),
        ("C6 Bank", r"\bc6(?: bank)?\b"),
        ("Banrisul", r"\bbanrisul\b"),
        ("Safra", r"\bsafra\b"),
        ("PagBank", r"\b(?:pagbank|pagseguro)\b"),
        ("Mercado Pago", r"\bmercado ?pago\b"),
        ("PicPay", r"\bpicpay\b"),
        ("Original", r"\bbanco original\b"),
    )
)


@dataclass(frozen=True, slots=True)
class PaymentClaimText:
    """What one message says about a payment made; every field optional."""

    amount: Decimal | None = None
    paid_on: date | None = None
    reference: str | None = None
    bank: str | None = None
    mentions_receipt: bool = False

    @property
    def has_details(self) -> bool:
        """Whether the message states anything an agent can check the payment against."""
        return any(v is not None for v in (self.amount, self.paid_on, self.reference, self.bank))


def _folded(text: str) -> str:
    return normalize(text).plain


def find_reference(text: str) -> tuple[str | None, list[tuple[int, int]]]:
    """The first reference in ``text`` (as written) and the spans of every one found."""
    spans: list[tuple[int, int]] = []
    first: tuple[int, str] | None = None
    for m in _END_TO_END.finditer(text):
        spans.append(m.span())
        first = first or (m.start(), m.group().upper())
    for m in _REFERENCE.finditer(text):
        if any(s <= m.start("code") < e for s, e in spans) or _NOT_A_CODE.fullmatch(m.group("code")):
            continue
        spans.append(m.span("code"))
        label = m.group("label").rstrip(".")
        shown = f"{label.upper() if len(label) <= 4 else label.lower()} {m.group('code')}"
        if first is None or m.start() < first[0]:
            first = (m.start(), shown)
    return (first[1][:128] if first else None), spans


def _amount(text: str, spans: list[tuple[int, int]], locale: str) -> Decimal | None:
    blanked = list(text)
    for start, end in spans:
        blanked[start:end] = " " * (end - start)
    cleaned = "".join(blanked)
    found = [a for a in find_amounts(cleaned, locale) if a.value > 0]
    if not found:
        return None
    plain = normalize(cleaned, locale).plain
    cued = [a for a in found if _AMOUNT_CUE.search(plain[max(0, a.start - 20):a.start])]
    if cued:
        return cued[0].value
    return found[0].value if len(found) == 1 else None


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _to_past(value: date, written: str, today: date) -> date | None:
    """The payment's date for a date the parser read as the next one (see the rules)."""
    if value <= today:
        return value
    digits_only = not _MONTH_WORD.search(re.sub(r"\b(?:dia|day|the|on|of|do|no|th|st|nd|rd)\b",
                                                "", written))
    if "/" in written or "-" in written or (re.search(r"[0-9]\.[0-9]", written)) or not digits_only:
        if _WEEKDAY_WORD.search(written) and not re.search(r"[0-9]", written):
            back = value - timedelta(days=7)
            return back if back <= today else None
        candidate = _clamped(value.year - 1, value.month, value.day)
        return candidate if (today - candidate).days <= 366 else None
    if re.search(r"[0-9]", written):  # "dia 2", "the 2nd": the last such day
        month, year = (today.month, today.year)
        candidate = _clamped(year, month, value.day)
        if candidate > today:
            month, year = (12, year - 1) if month == 1 else (month - 1, year)
            candidate = _clamped(year, month, value.day)
        return candidate
    return None


def _stated_day(text: str, today: date, locale: str) -> tuple[date | None, bool]:
    """The payment's date and whether the text put it in the past by itself (not shifted)."""
    text = _BEFORE_SPACE.sub(r"\1 \2\3", text)  # "dia 2, valor" reads like "dia 2 , valor"
    folded = normalize(text, locale).counting
    if _DAY_BEFORE.search(folded):
        return today - timedelta(days=2), True
    if _YESTERDAY.search(folded):
        return today - timedelta(days=1), True
    for found in find_dates(text, today, locale):
        written = folded[found.start:found.end]
        if re.search(r"\b(?:amanha|tomorrow|daqui|em|in|within|proxim|next|que vem)\b", written):
            continue
        past = _to_past(found.value, written, today)
        if past is not None:
            return past, found.value < today
    return None, False


def _bank(text: str) -> str | None:
    folded = _folded(text)
    for name, pattern in _BANKS:
        if pattern.search(folded):
            return name
    return None


def parse_payment_claim(text: str, today: date, locale: str = "pt-BR") -> PaymentClaimText:
    """Read a payment claim out of ``text`` (never raises on any ``str``)."""
    reference, spans = find_reference(text)
    return PaymentClaimText(
        amount=_amount(text, spans, locale),
        paid_on=_stated_day(text, today, locale)[0],
        reference=reference,
        bank=_bank(text),
        mentions_receipt=bool(_RECEIPT.search(_folded(text))),
    )


def carries_payment_details(text: str, today: date, locale: str = "pt-BR") -> bool:
    """Whether ``text`` speaks of a payment made: a reference, a bank, a receipt, a transfer,
    a past-tense payment verb or a date that is past as written ("15/11", "ontem"). An amount
    or a bare day alone is not enough: "posso pagar 3 mil dia 10" is a proposal."""
    folded = _folded(text)
    if _PAID_VERB.search(folded) or _TRANSFER.search(folded) or _RECEIPT.search(folded):
        return True
    reference, _ = find_reference(text)
    return reference is not None or _bank(text) is not None or _stated_day(text, today, locale)[1]
