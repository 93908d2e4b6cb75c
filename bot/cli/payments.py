"""`acordo payments import`: payments received, from a CSV or JSON file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from bot.cli.container import run_with_container
from bot.cli.output import err, out
from bot.schemas import RejectedRow

if TYPE_CHECKING:
    from bot.bootstrap import Container

payments_app = typer.Typer(help="Payments received.", no_args_is_help=True)


@payments_app.command("import")
def import_payments(file: Path) -> None:
    """Import payments from CSV (debt_external_id, amount, paid_at, reference) or JSON."""
    from bot.services.portfolio import UnknownDebt
    from bot.services.portfolio_files import read_payments

    try:
        parsed = read_payments(file)
    except (OSError, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc

    async def work(container: Container) -> tuple[int, int, list[RejectedRow]]:
        stored, duplicates, failures = 0, 0, list(parsed.rejected)
        for line, payment in parsed.items:
            try:
                result = await container.portfolio.record_payment(payment)
                duplicates += result.duplicate
                stored += not result.duplicate
            except UnknownDebt as exc:
                failures.append(RejectedRow(row=line, field="debt_external_id", reason=str(exc)))
        return stored, duplicates, failures

    stored, duplicates, failures = run_with_container(work)
    out.print(f"{stored} payments stored; {duplicates} already recorded; {len(failures)} rejected",
              markup=False)
    for row in failures:
        err.print(f"row {row.row}: {row.field}: {row.reason}", markup=False)
