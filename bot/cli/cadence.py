"""`acordo cadence ...`: the régua seen from the command line."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bot.cadence.preview import CadencePreview, CadenceSummary
from bot.cli.container import run_with_container
from bot.cli.output import err, out

if TYPE_CHECKING:
    from bot.bootstrap import Container

cadence_app = typer.Typer(help="The régua (dunning cadence).", no_args_is_help=True)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        err.print(f"error: --date {value!r} is not YYYY-MM-DD", markup=False)
        raise typer.Exit(2) from exc


@cadence_app.command("preview")
def preview(
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD (the debtors' local day)")],
    creditor: Annotated[str | None, typer.Option(help="creditor id (default: all)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON (docs/cadence.md)")] = False,
    details: Annotated[bool, typer.Option(help="list every contact, not only the counts")] = False,
) -> None:
    """What the dispatcher would do on a date, and why it would not contact the others (no sending)."""
    when = _day(day)
    assert when is not None

    async def work(container: Container) -> CadencePreview | CadenceSummary:
        if as_json or details:
            return await container.cadence.preview(when, creditor)
        return await container.cadence.summary(when, creditor)  # counts only: aggregated in SQL

    try:
        result = run_with_container(work)
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    if as_json and isinstance(result, CadencePreview):
        print(json.dumps(result.as_json(), ensure_ascii=False))  # noqa: T201 - machine output
        return
    _print_tables(result, details)


def _print_tables(result: CadencePreview | CadenceSummary, details: bool) -> None:
    counts = result.counts()
    planned = Table(
        "segment",
        "step",
        "template",
        "channel",
        "contacts",
        title=f"Régua on {result.day.isoformat()}: to send",
    )
    for (segment, step, template, channel), count in sorted(counts["planned"].items()):
        planned.add_row(segment, step, template, channel, str(count))
    skipped = Table("segment", "step", "template", "reason", "contacts", title="Not sent, and why")
    for (segment, step, template, reason), count in sorted(counts["skipped"].items()):
        skipped.add_row(segment, step, template, reason, str(count))
    out.print(planned)
    out.print(skipped)
    by_reason: dict[str, int] = {}
    for (_, _, _, reason), count in counts["skipped"].items():
        by_reason[reason] = by_reason.get(reason, 0) + count
    summary = ", ".join(f"{reason} {count}" for reason, count in sorted(by_reason.items()))
    out.print(
        f"{sum(counts['planned'].values())} to send; {sum(by_reason.values())} not sent"
        + (f" ({summary})" if summary else ""),
        markup=False,
        highlight=False,
    )
    if details and isinstance(result, CadencePreview):
        rows = Table("debtor", "debt", "step", "template", "channel / reason", "at")
        for p in result.planned:
            rows.add_row(p.debtor, p.debt, f"{p.cadence}#{p.step}", p.template, p.channel, p.at.isoformat())
        for s in result.skipped:
            rows.add_row(
                s.debtor,
                s.debt,
                f"{s.cadence}#{s.step}",
                s.template,
                s.reason + (f" ({s.detail})" if s.detail else ""),
                "",
            )
        out.print(rows)


@cadence_app.command("run")
def run_once(
    day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD; default today")] = None,
    creditor: Annotated[str | None, typer.Option(help="creditor id (default: all)")] = None,
) -> None:
    """Schedule the day's régua and queue it in the outbox now (the worker does this by itself)."""
    when = _day(day)

    async def work(container: Container) -> tuple[list[Any], int]:
        results = await container.cadence.schedule(when, creditor)
        queued = await container.cadence.materialize()
        await container.cadence.sweep()
        return results, queued

    try:
        results, queued = run_with_container(work)
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    for result in results:
        out.print(
            f"{result.creditor} {result.day.isoformat()}: {result.planned} planned, "
            f"{result.skipped} not contacted (reasons recorded)",
            markup=False,
        )
    out.print(f"{queued} contacts queued", markup=False)
