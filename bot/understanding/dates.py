"""Dates in chat text, resolved against the debtor's local ``today``.

Rules (``today`` is never read from a clock: the caller passes it):

- "hoje"/"hj"/"today" -> today; "amanha"/"tomorrow" -> +1; "depois de amanha" -> +2.
- A weekday ("sexta", "sexta-feira", "sex", "friday", "fri", "proxima sexta",
  "sexta que vem", "next friday", "this friday") -> its next occurrence strictly after today
  (say "hoje" for today). "sexta da semana que vem" / "friday next week" -> that weekday
  in the next Monday-to-Sunday week. Ambiguous abbreviations ("ter", "qua", "qui", "dom",
  "mon", "wed", "sat", "sun", ...) count only after "na", "no", "ate", "on", "next", ...
  "segunda via", "quinta parcela" are ordinals, not weekdays.
- "dia 15", "todo dia 15", "on the 15th", "the 15th", "dia primeiro" -> the 15th of this
  month if it is not past (today counts), else of next month; a day the month lacks is
  clamped to its last day ("dia 31" in November -> November 30). "dia 5 do mes que vem"
  -> the 5th of next month.
- "15/12", "15/12/2026", "15-12-2026", "15.12.26" -> day/month in pt-BR, month/day in en
  (the other order when only it is valid: "12/15" is December 15 in pt-BR too). Without
  a year: this year unless that date is past, then next year.
- "10 de dezembro", "dez 10", "December 10", "Dec 10th", "10th of December" -> read by
  dateparser (languages pt and en); without a year as above.
- "semana que vem"/"proxima semana"/"next week" -> next Monday.
- "fim de semana"/"weekend" -> next Saturday (today on a Saturday or Sunday).
- "fim do mes"/"final do mes"/"end of the month" -> last day of this month;
  "fim do mes que vem"/"end of next month" -> last day of next month.
- "mes que vem"/"proximo mes"/"next month" and "inicio do mes que vem" -> the 1st of next
  month: the earliest date the words allow (the negotiation policy decides if it is late).
- "em 30 dias", "daqui 15 dias", "daqui a 2 semanas", "15d", "30 dias", "in 10 days",
  "10 days from now", "within 2 weeks" -> today + N days (weeks: 7N); "N dias uteis" /
  "N business days" skip Saturdays and Sundays (not holidays). "daqui 2 meses", "em um
  mes", "in a month", "2 months from now" -> same day N months later (clamped).
  "ha 30 dias", "30 dias de atraso", "30 days ago" are the past, not a date to pay.

Nothing else is a date: without one of these forms the parser returns None.
Dateparser handles the month names only; the chat forms above are beyond what it
resolves reliably ("dia 15", "semana que vem", "fim do mes", "15d" give None or a past
date), so they are hand-written here.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from dateparser.date import DateDataParser

from bot.understanding.normalize import normalize

__all__ = ["DateMatch", "find_dates"]


@dataclass(frozen=True, slots=True)
class DateMatch:
    """A date found in ``normalize(text).counting``, with its span."""

    value: date
    start: int
    end: int


_PT_WEEKDAYS = {
    "segunda-feira": 0, "terca-feira": 1, "quarta-feira": 2, "quinta-feira": 3,
    "sexta-feira": 4, "sabado": 5, "domingo": 6,
    "seg": 0, "sex": 4, "sab": 5, "ter": 1, "qua": 2, "qui": 3, "dom": 6,
}  # fmt: skip
_EN_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
    "tues": 1, "thurs": 3, "fri": 4,
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "thur": 3, "sat": 5, "sun": 6,
}  # fmt: skip
_WEEKDAYS = {**_PT_WEEKDAYS, **_EN_WEEKDAYS}
_NEED_CUE = {"ter", "qua", "qui", "dom", "mon", "tue", "wed", "thu", "thur", "sat", "sun"}
_WEEKDAY_NAMES = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_WEEKDAY_CUE = r"na|no|nessa|nesta|essa|esta|proxima|prox|ate|ate a|pra|para|on|this|next|by|until"

_MONTHS = (
    r"janeiro|fevereiro|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|"
    r"dezembro|january|february|march|april|may|june|july|august|september|october|"
    r"november|december|jan|fev|feb|mar|abr|apr|mai|jun|jul|ago|aug|set|sept|sep|out|oct|"
    r"nov|dez|dec"
)
_NEXT_MONTH = r"(?:o\s+)?mes\s+que\s+vem|(?:o\s+)?proximo\s+mes|(?:o\s+)?mes\s+seguinte|next\s+month"
_NEXT_WEEK = r"(?:a\s+)?semana\s+que\s+vem|(?:a\s+)?proxima\s+semana|prox\s+semana|next\s+week"


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _add_months(day: date, months: int, *, day_of_month: int | None = None) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    wanted = day.day if day_of_month is None else day_of_month
    return date(year, month, min(wanted, _last_day(year, month)))


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _next_monday(today: date) -> date:
    return _next_weekday(today, 0)


def _add_business_days(today: date, days: int) -> date:
    current = today
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _day_of_month(today: date, day: int, *, next_month: bool = False) -> date | None:
    if not 1 <= day <= 31:
        return None
    if next_month or day < today.day:
        return _add_months(today, 1, day_of_month=day)
    return date(today.year, today.month, min(day, _last_day(today.year, today.month)))


def _this_or_next_year(today: date, month: int, day: int, year: int | None) -> date | None:
    try:
        if year is not None:
            return date(year + 2000 if year < 100 else year, month, day)
        found = date(today.year, month, day)
        return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


@lru_cache(maxsize=16)
def _month_name_parser(today: date) -> DateDataParser:
    return DateDataParser(
        languages=["pt", "en"],
        settings={
            "RELATIVE_BASE": datetime.combine(today, time()),
            "PREFER_DATES_FROM": "future",
            "REQUIRE_PARTS": ["day", "month"],
            "RETURN_AS_TIMEZONE_AWARE": False,
        },
    )


def _month_name_date(today: date, day: str, month: str, year: str | None) -> date | None:
    """Day and month name read by dateparser; the year resolved like numeric dates."""
    parsed = _month_name_parser(today).get_date_data(f"{day} {month} {year or today.year}")
    if parsed.date_obj is None:
        return None
    found = parsed.date_obj.date()
    return _this_or_next_year(today, found.month, found.day, int(year) if year else None)


Resolver = Callable[[re.Match[str], date, str], date | None]


def _numeric(m: re.Match[str], today: date, locale: str) -> date | None:
    first, second = int(m.group("a")), int(m.group("b"))
    year = int(m.group("y")) if m.group("y") else None
    day, month = (second, first) if locale.lower().startswith("en") else (first, second)
    if month > 12 and day <= 12:
        day, month = month, day
    return _this_or_next_year(today, month, day, year)


def _day_month_name(m: re.Match[str], today: date, _: str) -> date | None:
    return _month_name_date(today, m.group("d"), m.group("m"), m.group("y"))


def _day_of_month_rule(m: re.Match[str], today: date, _: str) -> date | None:
    raw = m.group("d")
    day = 1 if raw in ("primeiro", "first") else int(raw)
    return _day_of_month(today, day, next_month=bool(m.group("next")))


def _weekday_next_week(m: re.Match[str], today: date, _: str) -> date | None:
    return _next_monday(today) + timedelta(days=_WEEKDAYS[m.group("w")])


def _weekday(m: re.Match[str], today: date, _: str) -> date | None:
    name = m.group("w")
    if name in _NEED_CUE and not m.group("cue"):
        return None
    return _next_weekday(today, _WEEKDAYS[name])


def _offset(m: re.Match[str], today: date, _: str) -> date | None:
    amount = int(m.group("n")) if m.group("n").isdigit() else 1
    unit = m.group("u")
    if amount > 3660:
        return None
    if unit.startswith(("mes", "month")):
        return _add_months(today, amount) if amount <= 120 else None
    if "uteis" in unit or "business" in unit:
        return _add_business_days(today, amount)
    days = amount * 7 if unit.startswith(("semana", "week")) else amount
    return today + timedelta(days=days)


def _weekend(_m: re.Match[str], today: date, _: str) -> date | None:
    return today if today.weekday() >= 5 else _next_weekday(today, 5)


def _fixed(offset_days: int) -> Resolver:
    return lambda _m, today, _locale: today + timedelta(days=offset_days)


_OFFSET_UNIT = (
    r"(?P<u>dias?\s+uteis|business\s+days?|working\s+days?|dias?|days?|d|semanas?|weeks?)"
)
_PAST_AFTER = r"(?!\s*(?:atras|ago|de\s+atraso|late|overdue|em\s+atraso|vencid|sem\b))"

# (pattern, resolver) in priority order: an earlier rule wins an overlapping span.
_RULES: tuple[tuple[re.Pattern[str], Resolver], ...] = (
    (
        re.compile(
            r"(?<![0-9.,/])(?P<a>[0-9]{1,2})\s*/\s*(?P<b>[0-9]{1,2})"
            r"(?:\s*/\s*(?P<y>[0-9]{4}|[0-9]{2}))?(?![0-9/])"
        ),
        _numeric,
    ),
    (
        re.compile(
            r"(?<![0-9.,/])(?P<a>[0-9]{1,2})[.\-](?P<b>[0-9]{1,2})[.\-](?P<y>[0-9]{4}|[0-9]{2})"
            r"(?![0-9])"
        ),
        _numeric,
    ),
    (
        re.compile(
            r"(?<![0-9.,])(?P<d>[0-9]{1,2})\s*(?:#|th|st|nd|rd)?\s*(?:de\s+|of\s+)?"
            rf"(?P<m>{_MONTHS})\b\.?(?:\s*(?:de|,)?\s*(?P<y>[0-9]{{4}}))?"
        ),
        _day_month_name,
    ),
    (
        re.compile(
            rf"\b(?P<m>{_MONTHS})\b\.?\s+(?:the\s+)?(?P<d>[0-9]{{1,2}})(?![0-9]|[.,/][0-9])"
            r"\s*(?:#|th|st|nd|rd)?(?:\s*,?\s*(?P<y>[0-9]{4}))?"
        ),
        _day_month_name,
    ),
    (
        re.compile(
            r"\bdia\s+(?P<d>[0-9]{1,2}|primeiro)(?![0-9.,/\-])(?:\s*#)?"
            rf"(?!\s*(?:x\b|vezes|parcelas|%|k\b|mil\b))"
            rf"(?P<next>\s+(?:do|no|de)\s+(?:{_NEXT_MONTH}))?"
        ),
        _day_of_month_rule,
    ),
    (
        re.compile(
            r"(?:\b(?:on|by|until|before)\s+)?\bthe\s+(?P<d>[0-9]{1,2}|first)(?![0-9.,/])"
            r"\s*(?:th|st|nd|rd)?\b(?P<next>\s+of\s+next\s+month)?"
        ),
        _day_of_month_rule,
    ),
    (
        re.compile(
            r"(?<![0-9.,/$])(?P<d>[0-9]{1,2})\s*(?:th|st|nd|rd)\b(?P<next>\s+of\s+next\s+month)?"
        ),
        _day_of_month_rule,
    ),
    (re.compile(r"\b(?:depois\s+de\s+amanha|depois\s+d\s+amanha|day\s+after\s+tomorrow)\b"),
     _fixed(2)),
    (re.compile(r"\b(?:amanha|amanhan|amanhaa|amnh|amanh|tomorrow|tomorow|tommorow|tmrw|tmr)\b"),
     _fixed(1)),
    (re.compile(r"\b(?:hoje|hj|today|tonight)\b"), _fixed(0)),
    (
        re.compile(
            rf"\b(?P<w>{_WEEKDAY_NAMES})\b,?\s+(?:(?:da|na|of)\s+)?(?:{_NEXT_WEEK})\b"
        ),
        _weekday_next_week,
    ),
    (
        re.compile(rf"\b(?:{_NEXT_WEEK})\b,?\s+(?:(?:na|no|on)\s+)?(?P<w>{_WEEKDAY_NAMES})\b"),
        _weekday_next_week,
    ),
    (
        re.compile(
            rf"(?:\b(?P<cue>{_WEEKDAY_CUE})\s+)?\b(?P<w>{_WEEKDAY_NAMES})\b"
            r"(?:\s+(?:que\s+vem|q\s+vem|agora))?"
        ),
        _weekday,
    ),
    (
        re.compile(
            r"\b(?:fi(?:m|nal)\s+d[oe]\s+(?:" + _NEXT_MONTH + r")|end\s+of\s+next\s+month)\b"
        ),
        lambda _m, today, _l: _add_months(today, 1, day_of_month=31),
    ),
    (
        re.compile(
            r"\b(?:fi(?:m|nal)\s+d(?:o|este|esse)\s+mes|end\s+of\s+(?:the\s+|this\s+)?month|eom)\b"
        ),
        lambda _m, today, _l: today.replace(day=_last_day(today.year, today.month)),
    ),
    (
        re.compile(
            r"\b(?:(?:inicio|comeco)\s+d[oe]\s+(?:" + _NEXT_MONTH + r")|"
            r"(?:beginning|start)\s+of\s+next\s+month|early\s+next\s+month|"
            + _NEXT_MONTH + r"|mes\s+q\s+vem)\b"
        ),
        lambda _m, today, _l: _add_months(today, 1, day_of_month=1),
    ),
    (re.compile(r"\b(?:fi(?:m|nal)\s+de\s+semana|fds|(?:the\s+)?weekend)\b"), _weekend),
    (re.compile(rf"\b(?:{_NEXT_WEEK})\b"), lambda _m, today, _l: _next_monday(today)),
    (
        re.compile(
            r"\b(?:daqui(?:\s+a)?|dentro\s+de|within)\s+(?P<n>[0-9]{1,3}|a|an)\s+"
            r"(?P<u>mes|meses|months?)\b"
        ),
        _offset,
    ),
    (re.compile(r"\b(?:em|in)\s+(?P<n>1|a|an)\s+(?P<u>mes|month)\b"), _offset),
    (re.compile(r"\b(?P<n>[0-9]{1,3}|a|an)\s+(?P<u>months?|weeks?|days?)\s+from\s+now\b"), _offset),
    (
        re.compile(
            r"\b(?:daqui(?:\s+a)?|dentro\s+de|in|within|give\s+me|me\s+d[ae])\s+(?P<n>a|an)\s+"
            r"(?P<u>week|semana)\b"
        ),
        _offset,
    ),
    (
        re.compile(
            r"(?P<cue>\b(?:daqui(?:\s+a)?|dentro\s+de|em(?:\s+ate)?|ate|prazo\s+de|in|within|"
            r"me\s+da|me\s+de|give\s+me|after)\s+)?"
            rf"(?<![0-9.,])(?P<n>[0-9]{{1,4}})\s*{_OFFSET_UNIT}\b{_PAST_AFTER}"
        ),
        _offset,
    ),
)
# "ha 30 dias", "30 days late", "a cada 15 dias", "every 2 weeks": not a day to pay.
_PAST_BEFORE = re.compile(
    r"\b(?:ha|faz|fazem|atrasad\w*|atraso|vencid\w*|last|past|for|cada|every)\s*$"
)
_NOT_AFTER_D = re.compile(r"\s*(?:entrada|desconto|juros|reais|multa|[0-9])")


def _plausible_offset(m: re.Match[str], text: str) -> bool:
    """Reject offsets that are the past ("ha 30 dias") or "d" meaning "de" ("1000 d entrada")."""
    groups = m.groupdict()
    if groups.get("u") is None or groups.get("cue", "x") is not None:
        return True
    if _PAST_BEFORE.search(text, 0, m.start()):
        return False
    return groups["u"] != "d" or (int(groups["n"]) <= 120 and not _NOT_AFTER_D.match(text, m.end()))


def find_dates(text: str, today: date, locale: str = "pt-BR") -> list[DateMatch]:
    """All dates in ``text`` with their spans in ``normalize(text).counting``, in order."""
    counting = normalize(text, locale).counting
    accepted: list[DateMatch] = []
    for pattern, resolve in _RULES:
        for m in pattern.finditer(counting):
            start, end = m.start(), m.end()
            if start == end or any(a.start < end and start < a.end for a in accepted):
                continue
            if not _plausible_offset(m, counting):
                continue
            try:
                value = resolve(m, today, locale)
            except (ValueError, OverflowError):
                value = None
            if value is not None:
                accepted.append(DateMatch(value, start, end))
    return sorted(accepted, key=lambda d: d.start)
