"""`acordo users add`: staff accounts."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.container import run_with_container
from bot.cli.output import err, out

if TYPE_CHECKING:
    from bot.bootstrap import Container

users_app = typer.Typer(help="Staff accounts (agents and admins).", no_args_is_help=True)


@users_app.command("add")
def users_add(name: str,
              role: Annotated[str, typer.Option(help="agent or admin")] = "agent") -> None:
    """Create a staff user; the password comes from ACORDO_NEW_PASSWORD, else a prompt."""
    from bot.services.staff_accounts import AccountError

    password = os.environ.get("ACORDO_NEW_PASSWORD") or typer.prompt(
        f"Password for {name}", hide_input=True, confirmation_prompt=True)

    async def work(container: Container) -> int:
        return await container.staff.add_user(name, role, password)

    try:
        run_with_container(work)
    except AccountError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    out.print(f"user {name.strip().lower()} ({role}) created", markup=False)
