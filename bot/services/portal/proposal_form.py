"""The portal page's counter-proposal form: three fields read into a :class:`Proposal`.

The debtor states the number of payments (1: all at once), an optional down payment and an
optional first payment date. What cannot be terms at all (not a number, negative, absurdly
large, a date already past or more than a year ahead, more than ``MAX_COUNT`` payments) is a
form error named per field; anything else goes to the negotiation core as it is, which
answers with the chat's reasons (more payments than the policy allows, a down payment
too small, ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from bot.negotiation.proposals import Proposal

MAX_COUNT = 120  # payments: ten years of months, far above any policy
MAX_AMOUNT = Decimal("1000000000")  # one billion reais
MAX_DAYS_AHEAD = 366
MAX_FIELD = 32
AMOUNT_PATTERNS = {
    # pt-BR: 1.500,00 / 1500,00 / 1500 (and 1500.50: a dot before one or two digits)
    "pt-BR": (re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?|\d+(?:,\d{1,2})?"), ".", ","),
    "en": (re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"), ",", "."),
}
LOOSE_DECIMAL = re.compile(r"\d+[.,]\d{1,2}")


@dataclass(frozen=True)
class ProposalForm:
    """The form's fields as typed (kept to show them again)."""

    installments: str = ""
    down_payment: str = ""
    first_due: str = ""

    def trimmed(self) -> ProposalForm:
        return ProposalForm(*(value.strip()[:MAX_FIELD] for value in
                              (self.installments, self.down_payment, self.first_due)))


@dataclass(frozen=True)
class ReadProposal:
    proposal: Proposal | None
    errors: dict[str, str] = field(default_factory=dict)  # field -> error code


def read_count(text: str) -> tuple[int | None, str | None]:
    if not text:
        return None, None
    if not text.isdigit() or not text.isascii():
        return None, "not_a_number"
    count = int(text)
    if not 1 <= count <= MAX_COUNT:
        return None, "count_out_of_range"
    return count, None


def read_amount(text: str, locale: str) -> tuple[Decimal | None, str | None]:
    cleaned = text.replace("R$", "").replace("\u00a0", "").replace(" ", "")
    if not cleaned:
        return None, None
    if cleaned.startswith("-"):
        return None, "negative"
    pattern, thousands, decimal = AMOUNT_PATTERNS.get(locale, AMOUNT_PATTERNS["pt-BR"])
    if pattern.fullmatch(cleaned):
        number = cleaned.replace(thousands, "").replace(decimal, ".")
    elif LOOSE_DECIMAL.fullmatch(cleaned):
        number = cleaned.replace(",", ".")
    else:
        return None, "not_a_number"
    try:
        amount = Decimal(number)
    except InvalidOperation:
        return None, "not_a_number"
    if amount > MAX_AMOUNT:
        return None, "too_large"
    return amount.quantize(Decimal("0.01")), None


def read_date(text: str, today: date) -> tuple[date | None, str | None]:
    if not text:
        return None, None
    found = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})|(\d{1,2})/(\d{1,2})/(\d{4})", text)
    if found is None:
        return None, "not_a_date"
    parts = found.groups()
    year, month, day = (parts[0], parts[1], parts[2]) if parts[0] else (parts[5], parts[4], parts[3])
    try:
        when = date(int(year), int(month), int(day))
    except ValueError:
        return None, "not_a_date"
    if when < today:
        return None, "date_past"
    if when > today + timedelta(days=MAX_DAYS_AHEAD):
        return None, "date_too_far"
    return when, None


def read_proposal(form: ProposalForm, today: date, locale: str) -> ReadProposal:
    """The terms the form states, or the errors of its fields (``empty`` when none is filled)."""
    form = form.trimmed()
    count, count_error = read_count(form.installments)
    down, down_error = read_amount(form.down_payment, locale)
    first, first_error = read_date(form.first_due, today)
    errors = {name: code for name, code in (("installments", count_error),
                                            ("down_payment", down_error),
                                            ("first_due", first_error)) if code}
    if errors:
        return ReadProposal(None, errors)
    if count is None and down is None and first is None:
        return ReadProposal(None, {"installments": "empty"})
    if count is None and down is None:
        count = 1  # a date alone: paying everything on that day
    return ReadProposal(Proposal(installments=count, down_payment=down or None,
                                 first_due_date=first))
