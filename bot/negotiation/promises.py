"""Whether a promised payment date can be recorded: not past, not beyond the horizon.

A promise pauses the régua until its date (plus ``promise_grace_days``), so a date far
away ("pago em 31/12/9999") would silence collection forever. The horizon is the
profile's ``promise_max_days`` (default 30). Pure.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum


class PromiseDate(StrEnum):
    OK = "ok"
    PAST = "past"
    TOO_FAR = "too_far"


def latest_promise_date(today: date, max_days: int) -> date:
    return today + timedelta(days=max_days)


def check_promise_date(when: date, today: date, max_days: int) -> PromiseDate:
    if when < today:
        return PromiseDate.PAST
    if when > latest_promise_date(today, max_days):
        return PromiseDate.TOO_FAR
    return PromiseDate.OK
