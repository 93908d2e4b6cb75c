"""The app served over HTTP in a process of its own, with staff accounts, for the staff pages'
browser suites (Chromium through Playwright): one way to start it, one set of settings."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bot.devtools.stack import Child, start_app
from tests.conftest import ROOT

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(database_url: str, rasa_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    """The served app's settings: the shipped policies and templates, no outbox dispatch."""
    return {"ACORDO_DATABASE_URL": database_url, "ACORDO_POLICIES_DIR": str(ROOT / "policies"),
            "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"), "ACORDO_ADMIN_TOKEN": "browser-admin",
            "ACORDO_RASA_URL": rasa_url, "ACORDO_OUTBOX_IN_APP": "false"}


def add_user(env: Mapping[str, str], name: str, role: str, password: str) -> None:
    """``acordo users add NAME --role ROLE`` against the served app's database."""
    added = subprocess.run([sys.executable, "-m", "bot", "users", "add", name, "--role", role],
                           cwd=ROOT, env={**os.environ, **env, "ACORDO_NEW_PASSWORD": password},
                           capture_output=True, text=True, timeout=60)
    assert added.returncode == 0, added.stdout + added.stderr


@contextmanager
def served_app(folder: Path, database_url: str, users: Mapping[str, str], password: str, *,
               rasa_url: str = "http://127.0.0.1:9") -> Iterator[str]:
    """Add ``users`` (name → role) and serve the app on a free port; its base URL."""
    env = app_env(database_url, rasa_url)
    for name, role in users.items():
        add_user(env, name, role, password)
    port = free_port()
    app: Child = start_app(ROOT, port=port, env=env, log=folder / "app.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.stop()
