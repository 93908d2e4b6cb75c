"""`acordo followup run`: the day's follow-up of promises and installments, by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bot.cli.container import run_with_container
from bot.cli.output import err, out

if TYPE_CHECKING:
    from bot.bootstrap import Container

followup_app = typer.Typer(help="Follow-up of promises and installment plans.", no_args_is_help=True)


@followup_app.command("run")
def followup_run(day: Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD; default today")] = None,
                 dry_run: Annotated[bool, typer.Option("--dry-run", help="only report")] = False,
                 as_json: Annotated[bool, typer.Option("--json")] = False,
                 creditor: Annotated[str | None, typer.Option(help="creditor id (default: all)")] = None
                 ) -> None:
    """Remind, follow up, keep or break promises and installments due on a day (`acordo worker`
    runs it at the start of each creditor's day; this runs it by hand)."""
    import json
    from datetime import date

    async def work(container: Container) -> object:
        when = date.fromisoformat(day) if day else container.clock.now().date()
        return await container.followup.run(when, creditor=creditor, dry_run=dry_run)

    try:
        report = run_with_container(work)
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    from bot.cadence.followup.planning import FollowUpReport

    assert isinstance(report, FollowUpReport)
    if as_json:
        out.print_json(json.dumps({"date": report.day.isoformat(), "dry_run": report.dry_run,
                                   "decisions": report.decisions, "messages": report.messages,
                                   "held": report.held}))
        return
    table = Table("action", "debtor", "details", title=f"Follow-up {report.day.isoformat()}"
                  + (" (dry run)" if report.dry_run else ""))
    for row in report.decisions:
        details = ", ".join(f"{k}={v}" for k, v in row.items() if k not in ("action", "debtor"))
        table.add_row(row["action"], row["debtor"], details)
    out.print(table)
    for held in report.held:
        out.print(f"held back: {held['debtor']} {held['key']} ({held['reason']})", markup=False)
    out.print(f"{len(report.decisions)} decisions; {report.messages} messages queued; "
              f"{len(report.held)} contacts held back (reasons recorded)", markup=False)
