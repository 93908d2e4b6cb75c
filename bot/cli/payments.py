"""`acordo payments import`: payments received, from a CSV or JSON file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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


@payments_app.command("reconcile")
def reconcile(
    since: Annotated[str, typer.Option(help="start of the period, ISO 8601 with offset "
                                            "(e.g. 2026-11-26T00:00:00-03:00)")],
    until: Annotated[str | None, typer.Option(help="end of the period (default: now)")] = None,
) -> None:
    """Settle every PIX the PSP received in the period that no webhook reported (API Pix)."""
    try:
        start = _instant(since, "--since")
        end = _instant(until, "--until") if until else None
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(2) from exc

    async def work(container: Container) -> str | None:
        from bot.payments.provider import PaymentProviderError
        from bot.services.pix_reconciliation import sweep

        provider = container.payments.pix_api()
        if provider is None:
            return "no PSP is configured (ACORDO_PIX_API_URL is unset)"
        finish = end or container.clock.now()
        if finish <= start:
            return "--until must come after --since"
        try:
            tally = await sweep(container.portfolio, provider, start, finish)
        except PaymentProviderError as exc:
            return str(exc)
        out.print(f"{tally.settled} PIX settled now; {tally.duplicates} already recorded; "
                  f"{tally.unknown} not ours; {len(tally.rejected)} rejected", markup=False)
        return None

    problem = run_with_container(work)
    if problem:
        err.print(f"error: {problem}", markup=False)
        raise typer.Exit(1)


def _instant(text: str, option: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{option} needs a time zone offset (e.g. -03:00 or Z)")
    return moment


@payments_app.command("pix-webhook")
def register_pix_webhook() -> None:
    """Register this server's PIX webhook (ACORDO_PUBLIC_URL + the secret path) at the PSP."""

    async def work(container: Container) -> str:
        from bot.payments.provider import PaymentProviderError

        provider = container.payments.pix_api()
        public_url = container.settings.public_url
        if provider is None or not public_url:
            raise ValueError("set ACORDO_PIX_API_URL and ACORDO_PUBLIC_URL first")
        url = public_url.rstrip("/") + (provider.webhook_path() or "")
        try:
            await provider.register_webhook(url)
        except PaymentProviderError as exc:
            raise ValueError(str(exc)) from exc
        return url

    try:
        url = run_with_container(work)
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    out.print(f"PIX webhook registered: {url.rsplit('/', 1)[0]}/… (the PSP appends /pix)", markup=False)
