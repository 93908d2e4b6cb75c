"""The ``acordo`` command line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.config import Settings
from bot.devtools.stack import Child
from bot.policies import PolicyError, load_policies
from bot.schemas import ImportReport, RejectedRow

app = typer.Typer(help="Acordo: conversational negotiation for B2B credit recovery.",
                  no_args_is_help=True)
policies_app = typer.Typer(help="Creditor policy files.", no_args_is_help=True)
payments_app = typer.Typer(help="Payments received.", no_args_is_help=True)
demo_app = typer.Typer(help="The demo creditor and portfolio.", no_args_is_help=True)
model_app = typer.Typer(help="The Rasa model.", no_args_is_help=True)
app.add_typer(policies_app, name="policies")
app.add_typer(payments_app, name="payments")
app.add_typer(demo_app, name="demo")
app.add_typer(model_app, name="model")
users_app = typer.Typer(help="Staff accounts (agents and admins).", no_args_is_help=True)
app.add_typer(users_app, name="users")
followup_app = typer.Typer(help="Follow-up of promises and installment plans.", no_args_is_help=True)
app.add_typer(followup_app, name="followup")
debts_app = typer.Typer(help="One debt: write it off.", no_args_is_help=True)
app.add_typer(debts_app, name="debts")

if TYPE_CHECKING:
    from bot.bootstrap import Container
    from bot.devtools.dev_settings import DevSettings

T = TypeVar("T")
out = Console()
err = Console(stderr=True)


def main() -> None:
    app()


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

    from bot.clock import SystemClock
    from bot.services.policy_dry_run import dry_run

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


@app.command()
def serve(host: Annotated[str | None, typer.Option()] = None,
          port: Annotated[int | None, typer.Option()] = None) -> None:
    """Serve the ASGI app (channels, admin API, action webhook, chat page)."""
    import uvicorn

    from bot.app import create_app

    settings = Settings()
    try:
        load_policies(settings.policies_dir)
    except PolicyError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    for channel, status in settings.channel_status().items():
        out.print(f"channel {channel}: {status}", markup=False, highlight=False)
    # proxy_headers=False: uvicorn would believe X-Forwarded-For from its own allow-list;
    # the app reads it only from ACORDO_TRUSTED_PROXIES (bot/api/staff_deps.client_address).
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_level="warning", access_log=False, proxy_headers=False)


def _run_with_container(work: Callable[[Container], Awaitable[T]]) -> T:
    from bot.bootstrap import build_container

    async def runner() -> T:
        async with build_container(Settings()) as container:
            return await work(container)

    return asyncio.run(runner())


def _print_report(report: ImportReport) -> None:
    out.print(f"creditor {report.creditor}: {report.debtors} debtors, {report.contacts} contacts, "
              f"{report.debts} debts stored; {len(report.rejected)} rejected", markup=False)
    if report.rejected:
        table = Table("row", "field", "reason", title="Rejected rows")
        for row in report.rejected:
            table.add_row(str(row.row), row.field, row.reason)
        err.print(table)


@app.command("import")
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
        report = _run_with_container(work)
    except UnknownCreditor as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    elapsed = time.monotonic() - started
    _print_report(report)
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

    stored, duplicates, failures = _run_with_container(work)
    out.print(f"{stored} payments stored; {duplicates} already recorded; {len(failures)} rejected",
              markup=False)
    for row in failures:
        err.print(f"row {row.row}: {row.field}: {row.reason}", markup=False)


@demo_app.command("load")
def demo_load() -> None:
    """Load (or refresh) the demo portfolio for creditor `demo`."""
    from bot.demo import demo_portfolio

    async def work(container: Container) -> ImportReport:
        return await container.portfolio.import_portfolio(
            demo_portfolio(container.clock.now().date()))

    _print_report(_run_with_container(work))


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
        _run_with_container(work)
    except AccountError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    out.print(f"user {name.strip().lower()} ({role}) created", markup=False)


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
        report = _run_with_container(work)
    except ValueError as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    from bot.services.followup.planning import FollowUpReport

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
        done = _run_with_container(work)
    except (UnknownCreditor, UnknownDebt, DebtNotCollectable, ValueError) as exc:
        err.print(f"error: {exc}", markup=False)
        raise typer.Exit(1) from exc
    out.print(f"debt {done.debt_external_id} of {done.debtor_external_id} ({done.creditor}) written off "
              f"(was {done.previous_status}): {done.outstanding:.2f} outstanding, "
              f"{done.balance:.2f} with charges; {done.contacts_withdrawn} reminders withdrawn, "
              f"{done.promises_cancelled} promises cancelled", markup=False, highlight=False)


@model_app.command("ensure")
def model_ensure(force: Annotated[bool, typer.Option(help="train even if current")] = False) -> None:
    """Train the Rasa model if dialogs/ changed since the last training."""
    from bot.devtools.model import ensure_model

    root = Path.cwd()
    trained = ensure_model(root / "dialogs", root / ".venv-rasa" / "bin" / "rasa", force=force)
    out.print("model trained" if trained else "model is current", markup=False)


@app.command()
def dev(port: Annotated[int | None, typer.Option(help="overrides ACORDO_PORT")] = None,
        rasa_port: Annotated[int | None, typer.Option(
            help="overrides the port of ACORDO_RASA_URL [5005]")] = None) -> None:
    """Run the local stack: Rasa, the app with the action webhook, SQLite and the demo data.

    Host, port, database and tokens come from the options, else ACORDO_* settings (environment,
    then .env), else the tokens generated into var/dev-secrets.json and the defaults.
    """
    from pydantic import ValidationError

    from bot.devtools.dev_settings import DevSettingsError, resolve_dev_settings
    from bot.devtools.model import ensure_model
    from bot.devtools.stack import dev_secrets

    root = Path.cwd()
    var = Path(os.environ.get("ACORDO_VAR_DIR") or root / "var")
    try:
        resolved = resolve_dev_settings(
            Settings(), dev_secrets(var), environ=os.environ, port=port, rasa_port=rasa_port,
            generated=f"generated, in {_shown(var, root)}/dev-secrets.json")
    except (ValidationError, DevSettingsError) as exc:
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from exc
    if ensure_model(root / "dialogs", root / ".venv-rasa" / "bin" / "rasa"):
        out.print("Rasa model trained.", markup=False)
    children: list[Child] = []

    def terminate(*_: object) -> None:
        raise KeyboardInterrupt

    # Explicitly, for SIGINT too: a shell starting us in the background may have ignored it.
    signal.signal(signal.SIGINT, terminate)
    signal.signal(signal.SIGTERM, terminate)
    try:
        _run_dev_stack(root, var, resolved, children)
    except KeyboardInterrupt:
        _stop_children(children)
        out.print("Stopped.", markup=False)
    except (subprocess.CalledProcessError, RuntimeError, TimeoutError) as exc:
        _stop_children(children)
        err.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from exc
    else:  # a child died on its own
        _stop_children(children)
        raise typer.Exit(1)


def _run_dev_stack(root: Path, var: Path, resolved: DevSettings, children: list[Child]) -> None:
    """Start Rasa, load the demo, start the app; return when one of them stops."""
    from bot.devtools.stack import start_app, start_rasa, wait_for_rasa

    env = {**resolved.child_env(),
           "ACORDO_DEMO": "1", "ACORDO_CADENCE_IN_APP": "1"}  # the régua runs in the app process
    out.print(f"Starting the app and Rasa (logs in {_shown(var, root)}/*.log)…", markup=False)
    # Rasa loads its model (the slow part) while the app starts and the demo loads.
    rasa = start_rasa(root, port=resolved.rasa_port, token=resolved.rasa_token,
                      action_url=resolved.action_url, action_token=resolved.action_token,
                      log=var / "rasa.log", wait=False)
    children.append(rasa)
    # The demo portfolio before the app: the régua's first run at start-up plans its reminders.
    subprocess.run([sys.executable, "-m", "bot", "demo", "load"], check=True,
                   env={**os.environ, **env})
    children.append(start_app(root, host=resolved.host, port=resolved.port, env=env,
                              log=var / "app.log"))
    wait_for_rasa(rasa, resolved.rasa_port, resolved.rasa_token)
    out.print(resolved.banner(), markup=False, highlight=False, soft_wrap=True)
    while all(child.process.poll() is None for child in children):
        time.sleep(1.0)
    dead = [c.name for c in children if c.process.poll() is not None]
    err.print(f"{', '.join(dead)} stopped unexpectedly; see {_shown(var, root)}/*.log", markup=False)


def _shown(path: Path, root: Path) -> str:
    """A path relative to the checkout when it lies inside it (var), else as given."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _stop_children(children: list[Child]) -> None:
    """Stop every child, newest first; a second Ctrl-C or SIGTERM does not cut this short."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for child in reversed(children):
        child.stop()


# Channel commands: `acordo worker`, `acordo telegram poll`, `acordo telegram link-token`.
from bot.channels.commands import register_channel_commands  # noqa: E402

register_channel_commands(app)

# The régua: `acordo cadence preview`, `acordo cadence run`.
from bot.cadence_commands import register_cadence_commands  # noqa: E402

register_cadence_commands(app)

# The portal: `acordo portal link`.
from bot.channels.web_commands import register_portal_commands  # noqa: E402

register_portal_commands(app)
