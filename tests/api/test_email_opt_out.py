"""E-mail in the app: contacts on ``email`` (validated), a message through the one outgoing
path and the outbox to a real SMTP server, and the one-click opt-out its
``List-Unsubscribe`` names (RFC 8058): ``POST`` opts out like the keywords, ``GET`` only
asks, a forged token opens nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage
from tests.support.email_app import ADMIN, EmailApp, open_email_app

pytestmark = pytest.mark.timeout(60)
ADDRESS = "Marta.Souza@padaria.com.br"


def portfolio(address: str) -> dict[str, object]:
    return {"creditor": "demo", "debtors": [{
        "external_id": "padaria", "name": "Padaria Sol Ltda", "tax_id": "11.444.777/0001-61",
        "contacts": [{"name": "Marta", "channel": "email", "address": address},
                     {"name": "Marta", "channel": "whatsapp", "address": "+5511988887777"}],
        "debts": [{"external_id": "NF-1", "amount": "1234.00", "due_date": "2026-11-06"}]}]}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[EmailApp]:
    async for opened in open_email_app(tmp_path, portfolio(ADDRESS), "email-test-secret-0123"):
        yield opened


async def opt_out_path(app: EmailApp) -> str:
    """Send one e-mail; the path of the opt-out URL its ``List-Unsubscribe`` names."""
    mail = await app.send_one()
    found = re.match(r"<(http://test/u/[^>]+)>", str(mail["List-Unsubscribe"]))
    assert found is not None, mail["List-Unsubscribe"]
    return found.group(1).removeprefix("http://test")


async def test_an_email_contact_is_validated_and_its_domain_lower_cased(app: EmailApp) -> None:
    assert (await app.contact()).address == "Marta.Souza@padaria.com.br"
    for bad in ("marta@", "marta@@padaria.com.br", "marta padaria.com.br", "marta@localhost"):
        refused = await app.http.post("/api/v1/portfolio", json=portfolio(bad), headers=ADMIN)
        assert refused.status_code == 422, (bad, refused.text)
        assert "not a valid e-mail address" in refused.text


async def test_the_message_goes_by_email_and_one_click_opts_out(app: EmailApp) -> None:
    path = await opt_out_path(app)
    [got] = app.sink.received
    assert got.message["Subject"] == "Distribuidora Exemplo Ltda: mensagem sobre suas faturas"
    assert got.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    async with app.container.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "sent"
    # GET only asks (link scanners fetch URLs): the contact is still active.
    page = await app.http.get(path)
    assert page.status_code == 200 and "Deseja deixar de receber" in page.text
    assert "M•••@padaria.com.br" in page.text and ADDRESS not in page.text
    assert (await app.contact()).status == "active"
    # The mail client's one-click POST.
    done = await app.http.post(path, content=b"List-Unsubscribe=One-Click",
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "Pronto" in done.text
    assert (await app.contact()).status == "opted_out"
    assert (await app.contact("whatsapp")).status == "opted_out"  # the same person, every channel
    async with app.container.sessions() as session:
        events = list(await session.scalars(select(db.AuditEvent).where(db.AuditEvent.kind == "opted_out")))
    assert len(events) == 1 and events[0].actor == "email_unsubscribe"
    # A repeat changes nothing and records nothing more.
    again = await app.http.post(path, data={"confirm": "1"})
    assert again.status_code == 200
    async with app.container.sessions() as session:
        count = len(list(await session.scalars(
            select(db.AuditEvent).where(db.AuditEvent.kind == "opted_out"))))
    assert count == 1


async def test_a_forged_or_foreign_token_opens_nothing(app: EmailApp) -> None:
    path = await opt_out_path(app)
    contact_id = int(path.removeprefix("/u/").split(".")[0])
    for forged in (f"/u/{contact_id + 1}.{path.split('.')[-1]}", "/u/1.aaaaaaaaaaaaaaaa", "/u/x",
                   "/u/" + "9" * 500):
        page = await app.http.get(forged)
        assert page.status_code == 404 and "Link inválido" in page.text
        posted = await app.http.post(forged, content=b"List-Unsubscribe=One-Click",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert posted.status_code == 404
    assert (await app.contact()).status == "active"
