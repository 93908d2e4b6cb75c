"""The portal page in a real Chromium: the app served over HTTP on a SQLite file, debtors of
the demo creditor with web contacts, and a signed link per debtor (valid, or already expired)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bot.channels.web_links import PortalLinkSigner
from bot.clock import FixedClock, SystemClock
from bot.devtools.stack import Child, start_app
from tests.conftest import ROOT

SHOTS = ROOT / "docs" / "screenshots"
ADMIN = {"Authorization": "Bearer portal-browser-admin"}
SECRET = "portal-browser-secret-0123"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def debtor(external_id: str, amount: str = "8400.00", locale: str = "pt-BR") -> dict[str, Any]:
    return {"external_id": external_id, "name": f"{external_id.title()} Padaria Ltda",
            "tax_id": "11.444.777/0001-61", "locale": locale,
            "contacts": [{"name": "Marta", "channel": "web",
                          "address": f"financeiro@{external_id}.com.br"}],
            "debts": [{"external_id": f"NF-{external_id}", "amount": amount, "currency": "BRL",
                       "due_date": "2026-10-01", "description": "Farinha e insumos"}]}


@dataclass
class PortalSite:
    base: str

    def link(self, external_id: str) -> str:
        """A fresh link of the debtor (issued by the admin API)."""
        with httpx.Client(base_url=self.base, headers=ADMIN, timeout=30) as http:
            issued = http.post("/api/v1/portal/links", json={"debtor_external_id": external_id})
            assert issued.status_code == 201, issued.text
            return f"{self.base}/p/{issued.json()['token']}"

    def expired_link(self, external_id: str) -> str:
        """A link of the debtor signed with the site's secret that expired yesterday."""
        past = FixedClock(SystemClock().now() - timedelta(days=3))  # the served app's clock
        token = PortalLinkSigner(SECRET, past).issue(
            "demo", external_id, f"financeiro@{external_id}.com.br", timedelta(days=2))[0]
        return f"{self.base}/p/{token}"


@contextmanager
def portal_site(folder: Path, debtors: list[dict[str, Any]]) -> Iterator[PortalSite]:
    """The app over HTTP (the real clock) with ``debtors`` imported."""
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{folder / 'acordo.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "ACORDO_ADMIN_TOKEN": "portal-browser-admin", "ACORDO_LINK_SECRET": SECRET,
           "ACORDO_RASA_URL": "http://127.0.0.1:9", "ACORDO_OUTBOX_IN_APP": "false"}
    port = free_port()
    app: Child = start_app(ROOT, port=port, env=env, log=folder / "app.log")
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=ADMIN, timeout=30) as http:
            response = http.post("/api/v1/portfolio", json={"creditor": "demo", "debtors": debtors})
            assert response.status_code == 200, response.text
        yield PortalSite(base)
    finally:
        app.stop()
