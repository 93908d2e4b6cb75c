"""The policy's contact calendar: open days and hours, closed dates and national holidays."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays as holiday_calendars

from bot.contact_rules import ContactCalendar
from bot.policies.models import Policy


@lru_cache(maxsize=64)
def national_holidays(country: str, year: int) -> frozenset[date]:
    """National holidays of ``country`` in ``year`` (the ``holidays`` library; no regional ones)."""
    return frozenset(holiday_calendars.country_holidays(country, years=year).keys())


def contact_calendar(policy: Policy, around: date) -> ContactCalendar:
    """The policy's contact calendar with national holidays around ``around`` (±1 year)."""
    rules = policy.contact_rules
    national: set[date] = set()
    if rules.holidays:
        for year in (around.year - 1, around.year, around.year + 1):
            national |= national_holidays(rules.holidays, year)
    return ContactCalendar.from_rules(rules, national)
