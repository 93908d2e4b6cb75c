"""Values in a debtor's chat message: amounts, installment counts, percents, dates, proposals.

The public entry points of ``bot.understanding``. They are pure functions of their
arguments (``today`` is passed in, never read from a clock), never raise on any ``str``
and never guess: when the text does not state a value the result is None (or an empty
list / an empty ``Proposal``). The rules each one follows are documented in the module
that implements it (``amounts``, ``installments``, ``dates``, ``proposal_terms``).

``locale`` is the debtor's locale ("pt-BR" or "en"); it orders the languages used to read
spelled-out numbers and decides day/month order in "10/12". Both languages are always
understood, since Brazilian debtors sometimes write in English and vice versa.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.understanding.amounts import find_amounts, find_percents
from bot.understanding.dates import find_dates
from bot.understanding.installments import find_installments
from bot.understanding.proposal_terms import parse_proposal, parse_proposal_answer

__all__ = [
    "parse_amount",
    "parse_amounts",
    "parse_date",
    "parse_installments",
    "parse_percent",
    "parse_proposal",
    "parse_proposal_answer",
]


def parse_amounts(text: str, locale: str = "pt-BR") -> list[Decimal]:
    """Money amounts in the order written: "2 mil", "R$ 1.500,00", "1,5k", "dois mil e quinhentos".

    Installment counts ("6x"), percents, days ("dia 15"), dates, durations, times and
    years are not amounts.
    """
    return [match.value for match in find_amounts(text, locale)]


def parse_amount(text: str, locale: str = "pt-BR") -> Decimal | None:
    """The first amount in ``text``, or None."""
    found = find_amounts(text, locale)
    return found[0].value if found else None


def parse_installments(text: str, locale: str = "pt-BR") -> int | None:
    """The first installment count: "6x", "em 10 vezes", "seis parcelas", "a vista" -> 1.

    The count as written: in "entrada de 2 mil e o resto em 5x" it is 5 (``parse_proposal``
    adds the down payment).
    """
    found = find_installments(text, locale)
    return found[0].count if found else None


def parse_percent(text: str, locale: str = "pt-BR") -> Decimal | None:
    """The first percentage: "50%", "cinquenta por cento", "10 percent", "metade" -> 50."""
    found = find_percents(text, locale)
    return found[0].value if found else None


def parse_date(text: str, today: date, locale: str = "pt-BR") -> date | None:
    """The first date in ``text`` resolved against the debtor's local ``today``, or None."""
    found = find_dates(text, today, locale)
    return found[0].value if found else None


