"""`acordo debts write-off`: stop chasing one debt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.container import run_with_container
from bot.cli.output import err, out

if TYPE_CHECKING:
    from bot.bootstrap import Container

debts_app = typer.Typer(help="One debt: write it off.", no_args_is_help=True)


@debts_app.command("write-off")
def debts_write_off(
    debt: Annotated[str, typer.Argument(help="the debt's external id")],
    creditor: Annotated[str, typer.Option(help="creditor id")],
    reason: Annotated[str, typer.Option(help="why the creditor gives up (kept in the audit trail)")],
) -> None:
    """Write a debt off: the régua, the follow-up and the bot stop chasing it (exit 1 if it is
    unknown, paid, written off already or in an active agreement)."""
    from bot.services.portfolio import DebtNotCollectable, UnknownCreditor, UnknownDebt, WriteOff

    async def work(container: Container) -> WriteOff:
        return await container.portfolio.write_off(debt, creditor, reason, actor="cli")

    try:
        done = run_with_container(work)
    except (UnknownCreditor, UnknownDebt, DebtNotCollectable, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    out.print(f"debt {done.debt_external_id} of {done.debtor_external_id} ({done.creditor}) written off "
              f"(was {done.previous_status}): {done.outstanding:.2f} outstanding, "
              f"{done.balance:.2f} with charges; {done.contacts_withdrawn} reminders withdrawn, "
              f"{done.promises_cancelled} promises cancelled", markup=False, highlight=False)
