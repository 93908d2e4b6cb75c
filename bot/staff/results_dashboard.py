"""The results dashboard (``/admin/results``) and its tables as CSV (``/admin/results.csv``)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from bot.api.deps import ContainerDep
from bot.services.results.csv_export import to_csv
from bot.services.results.figures import Results
from bot.staff.deps import AdminStaffDep, page
from bot.staff.downloads import csv_download
from bot.staff.svg_charts import bar_chart, line_chart

router = APIRouter(tags=["results"], include_in_schema=False)


LABELS = {
    "overdue": "Overdue", "recovered": "Recovered", "recovery_rate": "Recovery rate",
    "agreements_made": "Agreements made", "agreements_kept": "Kept", "agreements_broken": "Broken",
    "promises_made": "Promises", "promises_kept": "Kept", "promises_broken": "Broken",
    "promise_kept_rate": "Promise-kept rate", "avg_days_to_payment": "Days to payment",
    "resolved_without_human": "Without a human", "contacts": "Contacts",
    "contacts_per_real": "Contacts per R$", "cost": "Cost", "negotiations": "Negotiations",
    "cost_per_negotiation": "Cost per negotiation", "debtors": "Debtors", "debts": "Debts",
    "amount": "Amount", "outstanding": "Outstanding", "cumulative": "Cumulative",
    "payments": "Payments (last touch)",
    "portal_agreements": "Portal agreements", "portal_agreed": "Agreed on the portal",
    "portal_without_human": "Without a human", "avg_days_visit_to_agreement": "Days from first visit",
    "portal_visitors": "Visitors", "portal_links_issued": "Links issued",
}
MONEY = {"overdue", "recovered", "cost", "cost_per_negotiation", "amount", "outstanding", "cumulative",
         "portal_agreed"}
RATES = {"recovery_rate", "promise_kept_rate", "resolved_without_human", "portal_without_human"}


def shown(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in RATES:
        return f"{Decimal(value) * 100:.1f}%"
    if key in MONEY:
        return f"R$ {Decimal(value):,.2f}"
    return str(value)


def _period(container: Any, creditor: str | None, start: date | None, end: date | None
            ) -> tuple[str, date, date]:
    creditors = sorted(container.policies)
    chosen = creditor or (creditors[0] if creditors else "")
    if chosen not in container.policies:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown creditor {creditor!r}")
    today = container.clock.now().date()
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "start is after end")
    return chosen, start, end


def _view_table(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    headers = list(rows[0]) if rows else []
    return {"name": name, "headers": [LABELS.get(h, h.replace("_", " ").capitalize()) for h in headers],
            "keys": headers, "rows": [[shown(k, r[k]) for k in headers] for r in rows]}


def _charts(results: Results) -> list[Any]:
    status_items = [(r["status"].replace("_", " "), r["outstanding"], shown("amount", r["outstanding"]))
                    for r in results.by_status]
    segment_items = [(r["segment"], r["recovery_rate"] or 0, shown("recovery_rate", r["recovery_rate"]))
                     for r in results.by_segment]
    channel_items = [(r["channel"], r["recovered"], shown("recovered", r["recovered"]))
                     for r in results.by_channel]
    step_items = [(r["step"], r["recovered"], shown("recovered", r["recovered"])) for r in results.by_step]
    over_time = [(r["day"], r["recovery_rate"] or Decimal(0)) for r in results.over_time]
    return [line_chart(over_time, "Recovery rate over the period (cumulative)"),
            bar_chart(status_items, "Outstanding by status"),
            bar_chart(segment_items, "Recovery rate by segment"),
            bar_chart(channel_items, "Recovered by channel"),
            bar_chart(step_items, "Recovered by the régua's last step before payment")]


@router.get("/admin/results")
async def results_page(container: ContainerDep, staff: AdminStaffDep, creditor: str | None = None,
                       start: date | None = None, end: date | None = None) -> Response:
    creditor, start, end = _period(container, creditor, start, end)
    results = await container.results.compute(creditor, start, end)
    summary = results.summary
    cards = [(LABELS[k], shown(k, summary[k])) for k in (
        "recovery_rate", "recovered", "overdue", "agreements_made", "agreements_kept",
        "promise_kept_rate", "avg_days_to_payment", "resolved_without_human", "contacts_per_real",
        "cost_per_negotiation")]
    tables = [_view_table(name, rows) for name, rows in results.tables().items()]
    return page("results.html", staff=staff, creditor=creditor, creditors=sorted(container.policies),
                start=start, end=end, cards=cards, charts=_charts(results), tables=tables)


@router.get("/admin/results.csv")
async def results_csv(container: ContainerDep, staff: AdminStaffDep, table: str = "summary",
                      creditor: str | None = None, start: date | None = None,
                      end: date | None = None) -> Response:
    creditor, start, end = _period(container, creditor, start, end)
    tables = (await container.results.compute(creditor, start, end)).tables()
    if table not in tables:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no table {table!r}: {', '.join(tables)}")
    name = f"acordo-{creditor}-{table}-{start.isoformat()}-{end.isoformat()}.csv"
    return csv_download(to_csv(tables[table]), name)
