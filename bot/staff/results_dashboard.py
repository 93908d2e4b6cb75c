"""The results dashboard (``/admin/results``) and its tables as CSV (``/admin/results.csv``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response

from bot.api.deps import ContainerDep
from bot.services.results.csv_export import to_csv
from bot.services.results.figures import Results
from bot.staff.day_input import DAY_PATTERN, NotADay, parse_day, shown_day
from bot.staff.deps import AdminStaffDep, default_zone, page
from bot.staff.downloads import csv_download
from bot.staff.i18n import StaffLocale, locale_of
from bot.staff.i18n_markers import N_
from bot.staff.svg_charts import bar_chart, line_chart

router = APIRouter(tags=["results"], include_in_schema=False)


LABELS = {
    "overdue": N_("Overdue"), "recovered": N_("Recovered"), "recovery_rate": N_("Recovery rate"),
    "agreements_made": N_("Agreements made"), "agreements_kept": N_("Agreements kept"),
    "agreements_broken": N_("Agreements broken"), "promises_made": N_("Promises"),
    "promises_kept": N_("Promises kept"), "promises_broken": N_("Promises broken"),
    "promise_kept_rate": N_("Promise-kept rate"), "avg_days_to_payment": N_("Days to payment"),
    "resolved_without_human": N_("Without a human"), "contacts": N_("Contacts"),
    "contacts_per_real": N_("Contacts per R$"), "cost": N_("Cost"), "negotiations": N_("Negotiations"),
    "cost_per_negotiation": N_("Cost per negotiation"), "debtors": N_("Debtors"), "debts": N_("Debts"),
    "amount": N_("Amount"), "outstanding": N_("Outstanding"), "cumulative": N_("Cumulative"),
    "payments": N_("Payments (last touch)"), "status": N_("Status"), "day": N_("Day"),
    "segment": N_("Segment"), "channel": N_("Channel"), "step": N_("Step"), "template": N_("Template"),
    "template_version": N_("Template and version"),
    "version": N_("Version"), "locale": N_("Language"),
    "portal_agreements": N_("Portal agreements"), "portal_agreed": N_("Agreed on the portal"),
    "portal_without_human": N_("Without a human"),
    "avg_days_visit_to_agreement": N_("Days from first visit"),
    "portal_visitors": N_("Visitors"), "portal_links_issued": N_("Links issued"),
}
TABLES = {"summary": N_("Summary"), "status": N_("By status"), "over_time": N_("Over time"),
          "segment": N_("By segment"), "channel": N_("By channel"), "step": N_("By régua step"),
          "template_version": N_("By template version"),
          "portal": N_("The portal")}
MONEY = {"overdue", "recovered", "cost", "cost_per_negotiation", "amount", "outstanding", "cumulative",
         "portal_agreed"}
RATES = {"recovery_rate", "promise_kept_rate", "resolved_without_human", "portal_without_human"}


@dataclass(frozen=True)
class Figure:
    """A figure as shown; ``odd`` names why it cannot be right (a negative amount, a rate
    above 100%): the page flags it instead of showing it as if it were."""

    text: str
    odd: str = ""


def shown(key: str, value: Any, words: StaffLocale) -> Figure:
    if value is None:
        return Figure("—")
    if key == "day":
        return Figure(words.day(date.fromisoformat(str(value))))
    if key in RATES:
        rate = Decimal(value)
        odd = N_("impossible: a rate outside 0–100%") if not 0 <= rate <= 1 else ""
        text = format_percent(rate, "#,##0.0%", locale=words.babel)
        return Figure(text, words.gettext(odd) if odd else "")
    if key in MONEY or isinstance(value, int | Decimal) and key != "version":
        number = Decimal(value)
        text = words.money(number) if key in MONEY else format_decimal(number, locale=words.babel)
        return Figure(text, words.gettext(N_("impossible: negative")) if number < 0 else "")
    if key in ("step", "template_version"):
        return Figure(_touch(str(value), words))
    if key in ("status", "channel"):
        return Figure(words.label(value, "status.debt" if key == "status" else "channel"))
    return Figure(str(value))


# The last touch before a payment, as the results service names it (bot/services/results/).
TOUCHES = {"(not in a cadence)": N_("(not in a cadence)"), "(agent)": N_("(agent)"),
           "(none)": N_("(none)"), "file": N_("file")}
_STEP = re.compile(r"(?P<cadence>\S+) #(?P<number>\d+) \(day (?P<day>[+-]\d+)\)")


def _touch(value: str, words: StaffLocale) -> str:
    """``gentle #2 (day +1)`` -> ``gentle nº 2 (dia +1)``; ``(agent) file`` -> ``(agente) arquivo``."""
    if step := _STEP.fullmatch(value):
        return words.gettext("%(cadence)s #%(number)s (day %(day)s)") % step.groupdict()
    if value in TOUCHES:
        return words.gettext(TOUCHES[value])
    template, _, version = value.rpartition(" ")
    return " ".join(words.gettext(TOUCHES[part]) if part in TOUCHES else part
                    for part in (template, version) if part)


def _period(container: Any, creditor: str | None, start: str, end: str) -> tuple[str, date, date]:
    creditors = sorted(container.policies)
    chosen = creditor or (creditors[0] if creditors else "")
    if chosen not in container.policies:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown creditor {creditor!r}")
    try:
        last = parse_day(end) if end.strip() else container.clock.now().date()
        first = parse_day(start) if start.strip() else last - timedelta(days=29)
    except NotADay as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"not a date: {exc} (dd/mm/aaaa or aaaa-mm-dd)") from exc
    if first > last:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "start is after end")
    return chosen, first, last


def _view_table(name: str, rows: list[dict[str, Any]], words: StaffLocale) -> dict[str, Any]:
    headers = list(rows[0]) if rows else []
    return {"name": name, "title": words.gettext(TABLES.get(name, name)),
            "headers": [words.gettext(LABELS[h]) if h in LABELS else h for h in headers],
            "rows": [[shown(k, r[k], words) for k in headers] for r in rows]}


def _charts(results: Results, words: StaffLocale) -> list[Any]:
    _ = words.gettext
    def bars(rows: list[dict[str, Any]], key: str, value: str) -> list[tuple[str, Any, str]]:
        return [(shown(key, r[key], words).text, r[value] or 0, shown(value, r[value], words).text)
                for r in rows]
    by_status = bars(results.by_status, "status", "outstanding")
    over_time = [(shown("day", r["day"], words).text, r["recovery_rate"] or Decimal(0))
                 for r in results.over_time]
    return [line_chart(over_time, _("Recovery rate over the period (cumulative)"),
                       empty=_("no payments in the period")),
            bar_chart(by_status, _("Outstanding by status")),
            bar_chart(bars(results.by_segment, "segment", "recovery_rate"), _("Recovery rate by segment")),
            bar_chart(bars(results.by_channel, "channel", "recovered"), _("Recovered by channel")),
            bar_chart(bars(results.by_step, "step", "recovered"),
                      _("Recovered by the régua's last step before payment"))]


@router.get("/admin/results")
async def results_page(request: Request, container: ContainerDep, staff: AdminStaffDep,
                       creditor: str | None = None, start: str = "", end: str = "") -> Response:
    creditor, first, last = _period(container, creditor, start, end)
    results = await container.results.compute(creditor, first, last)
    words = locale_of(request)
    cards = [(words.gettext(LABELS[k]), shown(k, results.summary[k], words)) for k in (
        "recovery_rate", "recovered", "overdue", "agreements_made", "agreements_kept",
        "promise_kept_rate", "avg_days_to_payment", "resolved_without_human", "contacts_per_real",
        "cost_per_negotiation")]
    tables = [_view_table(name, rows, words) for name, rows in results.tables().items()]
    return page(request, "results.html", staff=staff, creditor=creditor,
                creditors=sorted(container.policies), start=first, end=last, cards=cards,
                charts=_charts(results, words), tables=tables, day_pattern=DAY_PATTERN,
                shown_day=shown_day, zone=default_zone(request, creditor))


@router.get("/admin/results.csv")
async def results_csv(container: ContainerDep, staff: AdminStaffDep, table: str = "summary",
                      creditor: str | None = None, start: str = "", end: str = "") -> Response:
    creditor, first, last = _period(container, creditor, start, end)
    tables = (await container.results.compute(creditor, first, last)).tables()
    if table not in tables:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no table {table!r}: {', '.join(tables)}")
    name = f"acordo-{creditor}-{table}-{first.isoformat()}-{last.isoformat()}.csv"
    return csv_download(to_csv(tables[table]), name)
