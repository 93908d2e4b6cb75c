"""The debtor's portal page against the app (SQLite, fixed clock, built-in PIX): two debtors of
the demo creditor with web contacts, and a signed, stored link for each."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bot.app import create_app
from bot.bootstrap import Container
from bot.clock import FixedClock
from bot.storage import models as db
from tests.conftest import ADMIN_TOKEN, NOW, ScriptedDialogue, make_settings
from tests.support.lifespan import lifespan
from tests.support.portal_links import stored_token

SECRET = "test-portal-secret-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ACME = ("acme", "rita@acme.com.br", "7350.00", "pt-BR")
BETA = ("beta", "joe@beta.example", "1234.56", "en")


def debtor(external_id: str, address: str, amount: str, locale: str) -> dict[str, Any]:
    return {"external_id": external_id, "name": f"{external_id.title()} Comércio Ltda",
            "tax_id": "11.444.777/0001-61", "locale": locale,
            "contacts": [{"name": "Rita", "channel": "web", "address": address}],
            "debts": [{"external_id": f"NF-{external_id}", "amount": amount, "currency": "BRL",
                       "due_date": "2026-11-06", "description": "Mercadorias"}]}


@dataclass
class Portal:
    http: httpx.AsyncClient
    container: Container
    clock: FixedClock

    def token(self, who: tuple[str, str, str, str] = ACME, days: float = 7) -> str:
        return stored_token(self.container.settings.database_url, SECRET, self.clock, "demo",
                            who[0], who[1], days)

    async def rows(self, model: Any) -> list[Any]:
        async with self.container.sessions() as session:
            return list(await session.scalars(select(model).order_by(model.id)))

    async def rows_of_kind(self, kind: str) -> list[db.AuditEvent]:
        return [e for e in await self.rows(db.AuditEvent) if e.kind == kind]

    async def audit_kinds(self) -> list[str]:
        return [e.kind for e in await self.rows(db.AuditEvent)]


async def open_portal(tmp_path: Path, database_url: str | None = None) -> AsyncIterator[Portal]:
    clock = FixedClock(NOW)
    database = {"database_url": database_url} if database_url else {}
    settings = make_settings(tmp_path, link_secret=SECRET, public_url="http://test", **database)
    application = create_app(settings, clock=clock, dialogue=ScriptedDialogue())
    async with lifespan(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            body = {"creditor": "demo", "debtors": [debtor(*ACME), debtor(*BETA)]}
            response = await http.post("/api/v1/portfolio", json=body, headers=ADMIN)
            assert response.status_code == 200, response.text
            yield Portal(http, application.state.container, clock)


def offer_refs(html: str) -> list[str]:
    """The offer references of the page's accept forms, in order."""
    return re.findall(r'name="offer" value="([0-9a-f]+)"', html)


def form_field(html: str) -> str:
    """The page's form field (the link's HMAC every portal form posts)."""
    found = re.search(r'name="form" value="([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


async def accept_plan(portal: Portal, token: str, index: int = 2) -> tuple[str, httpx.Response]:
    """Accept the page's ``index``-th offer (0: full payment, 1: two installments, ...)."""
    html = (await portal.http.get(f"/p/{token}")).text
    ref = offer_refs(html)[index]
    response = await portal.http.post(f"/p/{token}/accept",
                                      data={"offer": ref, "form": form_field(html)})
    return ref, response
