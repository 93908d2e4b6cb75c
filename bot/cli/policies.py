"""`acordo policies check`: validate the creditors' policy files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.output import err, out
from bot.config import Settings
from bot.policies import PolicyError, load_policies

policies_app = typer.Typer(help="Creditor policy files.", no_args_is_help=True)


@policies_app.command("check")
def policies_check(directory: Annotated[Path | None, typer.Argument()] = None) -> None:
    """Validate policy files: exit 1 with one line per problem."""
    folder = directory or Settings().policies_dir
    try:
        book = load_policies(folder)
    except PolicyError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    from zoneinfo import ZoneInfo

    from bot.cadence.dry_run import dry_run
    from bot.clock import SystemClock

    failed = False
    for creditor_id, policy in book.items():
        # The statements built from the policy must run (against an empty database).
        today = SystemClock().now().astimezone(ZoneInfo(policy.creditor.timezone)).date()
        problems = dry_run(policy, today)
        for line in problems:
            err.print(f"{creditor_id}: {line}", markup=False, highlight=False, soft_wrap=True)
        failed = failed or bool(problems)
        if not problems:
            out.print(f"{creditor_id}: ok ({policy.creditor.name}, {len(policy.segments)} segments)",
                      markup=False, highlight=False)
    if failed:
        raise typer.Exit(1)
