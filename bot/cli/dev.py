"""`acordo dev`: the local stack (Rasa, the app, SQLite, the demo data)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.output import err, out
from bot.config import Settings
from bot.devtools.stack import Child

if TYPE_CHECKING:
    from bot.devtools.dev_settings import DevSettings


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
    out.print(resolved.banner(_demo_links(resolved, env)), markup=False, highlight=False,
              soft_wrap=True)
    while all(child.process.poll() is None for child in children):
        time.sleep(1.0)
    dead = [c.name for c in children if c.process.poll() is not None]
    err.print(f"{', '.join(dead)} stopped unexpectedly; see {_shown(var, root)}/*.log", markup=False)


def _demo_links(resolved: DevSettings, env: dict[str, str]) -> list[tuple[str, str]]:
    """A new portal link for each demo debtor (`acordo portal demo-links`); none without a
    link secret."""
    if not resolved.link_secret:
        return []
    done = subprocess.run([sys.executable, "-m", "bot", "portal", "demo-links"], check=False,
                          capture_output=True, text=True, env={**os.environ, **env})
    if done.returncode != 0:
        err.print(f"no portal links: {done.stderr.strip()}", markup=False, highlight=False)
        return []
    return [(name, url) for name, _, url in
            (line.partition("\t") for line in done.stdout.splitlines()) if url]


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
