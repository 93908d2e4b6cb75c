"""`acordo import`: a creditor's portfolio from a CSV or JSON file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from bot.cli.container import run_with_container
from bot.cli.output import err, out
from bot.schemas import ImportReport

if TYPE_CHECKING:
    from bot.bootstrap import Container


def print_report(report: ImportReport) -> None:
    out.print(f"creditor {report.creditor}: {report.debtors} debtors, {report.contacts} contacts, "
              f"{report.debts} debts stored; {len(report.rejected)} rejected", markup=False)
    if report.rejected:
        table = Table("row", "field", "reason", title="Rejected rows")
        for row in report.rejected:
            table.add_row(str(row.row), row.field, row.reason)
        err.print(table)


def import_portfolio(file: Path,
                     creditor: Annotated[str | None, typer.Option(help="creditor id")] = None) -> None:
    """Import a CSV or JSON portfolio (JSON = the body of POST /api/v1/portfolio)."""
    from bot.services.portfolio import UnknownCreditor
    from bot.services.portfolio_files import iter_portfolio

    try:
        creditor_id, chunks = iter_portfolio(file, creditor)
    except (OSError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    started = time.monotonic()
    rows = 0

    async def work(container: Container) -> ImportReport:
        nonlocal rows
        report = ImportReport(creditor=creditor_id)
        if creditor_id not in container.policies:
            raise UnknownCreditor(creditor_id)
        with _import_progress(file) as (progress, task):
            for chunk in chunks:
                report.rejected.extend(chunk.rejected)
                await container.portfolio.import_batch(creditor_id, chunk.items, report)
                rows += chunk.rows
                progress.update(task, completed=chunk.bytes_read, rows=rows,
                                rate=rows / max(time.monotonic() - started, 1e-6))
        await container.portfolio.record_import(report)
        report.rejected.sort(key=lambda r: r.row)
        return report

    try:
        report = run_with_container(work)
    except UnknownCreditor as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    elapsed = time.monotonic() - started
    print_report(report)
    out.print(f"{rows} rows in {elapsed:.1f} s ({rows / max(elapsed, 1e-6):,.0f} rows/s)", markup=False)


def _import_progress(file: Path) -> Any:
    """A progress bar over the file's bytes with rows and rows/s (on a terminal only)."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar() -> Any:
        progress = Progress(TextColumn("importing {task.description}"), BarColumn(),
                            TextColumn("{task.fields[rows]:,} rows"),
                            TextColumn("{task.fields[rate]:,.0f} rows/s"),
                            TimeElapsedColumn(), console=err, disable=not err.is_terminal)
        with progress:
            task = progress.add_task(file.name, total=max(file.stat().st_size, 1), rows=0, rate=0.0)
            yield progress, task

    return bar()
