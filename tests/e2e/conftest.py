"""The real stack: the Rasa server with the trained model and the app, as child processes.

Started once per test session and shared by every end-to-end test (training
happens before pytest, in `make test`).
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.clock import SystemClock
from bot.demo import demo_portfolio
from bot.devtools.model import model_path
from bot.devtools.stack import Child, start_app, start_rasa

ROOT = Path(__file__).resolve().parents[2]
LINK_SECRET = "e2e-link-secret-0123456789"


_serial = itertools.count(1)
# Valid CNPJs for the debtors the tests create.
CNPJS = ("51.819.093/7865-73", "62.819.482/1993-00", "39.099.603/0824-26", "01.661.318/6091-64")


def today() -> date:
    """The real stack runs on the system clock: its day in São Paulo."""
    return SystemClock().now().astimezone(ZoneInfo("America/Sao_Paulo")).date()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    app_url: str
    rasa_port: int
    rasa_token: str
    action_url: str
    action_token: str
    admin_token: str
    logs: Path
    rasa: Child
    app: Child
    env: dict[str, str]

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def restart_rasa(self) -> None:
        self.rasa.stop()
        self.rasa = start_rasa(ROOT, port=self.rasa_port, token=self.rasa_token,
                               action_url=self.action_url, action_token=self.action_token,
                               log=self.logs / "rasa.log")

    def new_debtor(self, *, locale: str = "pt-BR", debts: tuple[tuple[str, int], ...] = (("6000.00", 15),)
                   ) -> str:
        """Create a debtor of its own for one test; returns its web contact address."""
        n = next(_serial)
        address = f"test{n}-{locale.lower()}@e2e.example"
        body = {"creditor": "demo", "debtors": [{
            "external_id": f"e2e-{n}", "name": f"Empresa Teste {n} Ltda", "tax_id": CNPJS[n % 4],
            "locale": locale, "contacts": [{"name": "Teste", "channel": "web", "address": address}],
            "debts": [{"external_id": f"E2E-{n}-{i}", "amount": amount, "currency": "BRL",
                       "due_date": (today() - timedelta(days=late)).isoformat(),
                       "description": f"NF {n}{i}"} for i, (amount, late) in enumerate(debts)],
        }]}
        response = httpx.post(f"{self.app_url}/api/v1/portfolio", json=body, headers=self.admin)
        assert response.status_code == 200, response.text
        return address

    def debtor(self, address: str) -> dict[str, object]:
        external_id = "e2e-" + address.split("-")[0].removeprefix("test")
        response = httpx.get(f"{self.app_url}/api/v1/debtors/{external_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        view: dict[str, object] = response.json()
        return view

    def portal_url(self, address: str) -> str:
        """The debtor's portal link, as `acordo portal link` prints it (on this app's URL)."""
        external_id = "e2e-" + address.split("-")[0].removeprefix("test")
        done = subprocess.run([sys.executable, "-m", "bot", "portal", "link", external_id,
                               "--days", "1"], cwd=ROOT, env={**os.environ, **self.env},
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        token = done.stdout.strip().rsplit("/p/", 1)[1]
        return f"{self.app_url}/p/{token}"

    def say(self, sender: str, text: str) -> list[dict[str, object]]:
        # As a trusted integration (the admin bearer token): a bare sender is refused.
        response = httpx.post(f"{self.app_url}/channels/web/messages",
                              json={"sender": sender, "text": text}, headers=self.admin, timeout=30)
        assert response.status_code == 200, response.text
        replies: list[dict[str, object]] = response.json()["replies"]
        return replies


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not model_path(ROOT / "dialogs").is_file():
        pytest.fail("no trained model: run `make model` (make test does it first)")
    logs = tmp_path_factory.mktemp("stack")
    app_port, rasa_port = free_port(), free_port()
    tokens = {"admin": "e2e-admin", "rasa": "e2e-rasa", "action": "e2e-action"}
    env = {
        "ACORDO_DATABASE_URL": f"sqlite:///{logs / 'acordo.db'}",
        "ACORDO_ADMIN_TOKEN": tokens["admin"], "ACORDO_RASA_TOKEN": tokens["rasa"],
        "ACORDO_ACTION_TOKEN": tokens["action"],
        "ACORDO_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "ACORDO_POLICIES_DIR": str(ROOT / "policies"),
        "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
        "ACORDO_LINK_SECRET": LINK_SECRET,
    }
    app = start_app(ROOT, port=app_port, env=env, log=logs / "app.log")
    action_url = f"http://127.0.0.1:{app_port}/actions/webhook"
    try:
        rasa = start_rasa(ROOT, port=rasa_port, token=tokens["rasa"], action_url=action_url,
                          action_token=tokens["action"], log=logs / "rasa.log")
    except Exception:
        app.stop()
        raise
    stack = Stack(f"http://127.0.0.1:{app_port}", rasa_port, tokens["rasa"], action_url,
                  tokens["action"], tokens["admin"], logs, rasa, app, env)
    body = demo_portfolio(today()).model_dump(mode="json")
    response = httpx.post(f"{stack.app_url}/api/v1/portfolio", json=body, headers=stack.admin)
    assert response.status_code == 200, response.text
    try:
        yield stack
    finally:
        stack.rasa.stop()
        stack.app.stop()
