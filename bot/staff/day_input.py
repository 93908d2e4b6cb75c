"""Dates typed on the staff pages: ``dd/mm/aaaa`` (what Brazilian staff type, and what the
pages show) or ISO ``aaaa-mm-dd`` (links, scripts, ``<input type=date>``)."""

from __future__ import annotations

import re
from datetime import date

DAY_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2}"  # the inputs' HTML pattern
_BRAZILIAN = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class NotADay(ValueError):
    """A typed date that is neither ``dd/mm/aaaa`` nor ``aaaa-mm-dd``, or no such day."""


def parse_day(text: str) -> date:
    """``"08/12/2026"`` and ``"2026-12-08"`` are 8 December 2026; anything else raises NotADay."""
    text = text.strip()
    if match := _BRAZILIAN.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise NotADay(text)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise NotADay(text) from exc


def shown_day(value: date) -> str:
    """The value of a date input: ``dd/mm/aaaa`` in every language (the team is Brazilian)."""
    return value.strftime("%d/%m/%Y")
