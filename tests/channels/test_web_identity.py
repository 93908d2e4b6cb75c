"""Web channel identity: a portal link token, the admin bearer token with ``sender``, or (demo
mode only) a bare ``sender`` of the demo creditor. Nobody else reads or speaks on the web
channel, and /chat exists only in demo mode."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from bot.app import create_app
from bot.bootstrap import Container
from bot.channels.web_links import InvalidLink, PortalLinkSigner
from bot.cli.app import app as cli
from bot.clock import FixedClock
from bot.storage import models as db
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.portfolio import PortfolioRepository
from tests.conftest import ADMIN_TOKEN, NOW, ROOT, ScriptedDialogue, make_settings
from tests.support.lifespan import lifespan
from tests.support.portal_links import stored_token

SECRET = "test-link-secret-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
RITA = "rita@acme.com.br"
OTHER = "joao@outra.example"


def portfolio(creditor: str, external_id: str, address: str, channel: str = "web") -> dict[str, Any]:
    return {"creditor": creditor, "debtors": [{
        "external_id": external_id, "name": f"{external_id.title()} Comércio Ltda",
        "tax_id": "11.444.777/0001-61", "locale": "pt-BR",
        "contacts": [{"name": "Rita", "channel": channel, "address": address}],
        "debts": [{"external_id": f"NF-{external_id}", "amount": "7350.00", "currency": "BRL",
                   "due_date": "2026-11-06", "description": "NF 1"}]}]}


@dataclass
class Web:
    http: httpx.AsyncClient
    container: Container
    clock: FixedClock
    dialogue: ScriptedDialogue

    def token(self, address: str = RITA, debtor: str = "acme", creditor: str = "demo",
              days: float = 7, secret: str = SECRET) -> str:
        return stored_token(self.container.settings.database_url, secret, self.clock, creditor,
                            debtor, address, days)

    async def queued_for(self, address: str) -> list[db.Message]:
        async with self.container.sessions() as session:
            rows = await session.scalars(
                select(db.Message).join(db.Conversation).join(db.Contact)
                .where(db.Contact.address == address, db.Message.direction == "out"))
            return [r for r in rows if r.status == "queued"]


def two_creditors(tmp_path: Path) -> Path:
    policies = tmp_path / "policies"
    policies.mkdir()
    shutil.copy(ROOT / "policies" / "demo.yaml", policies / "demo.yaml")
    text = (ROOT / "policies" / "demo.yaml").read_text(encoding="utf-8")
    (policies / "outra.yaml").write_text(text.replace("Distribuidora Exemplo Ltda", "Outra Credora SA"),
                                         encoding="utf-8")
    return policies


async def open_web(tmp_path: Path, **overrides: Any) -> AsyncIterator[Web]:
    clock = FixedClock(NOW)
    dialogue = ScriptedDialogue()
    settings = make_settings(tmp_path, **{"link_secret": SECRET,
                                          "policies_dir": two_creditors(tmp_path), **overrides})
    application = create_app(settings, clock=clock, dialogue=dialogue)
    async with lifespan(application) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            for body in (portfolio("demo", "acme", RITA), portfolio("outra", "beta", OTHER)):
                assert (await http.post("/api/v1/portfolio", json=body, headers=ADMIN)).status_code == 200
            yield Web(http, application.state.container, clock, dialogue)


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async for opened in open_web(tmp_path):
        yield opened


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Web]:
    async for opened in open_web(tmp_path, demo=True):
        yield opened


async def agent_says(web: Web, address: str, text: str) -> None:
    """A message pushed to the contact later (as an agent's reply is): stored ``queued``."""
    async with web.container.sessions() as session:
        contact = await PortfolioRepository(session).find_contact("web", address)
        assert contact is not None
        conversations = ConversationRepository(session)
        conversation = await conversations.get_or_create(contact)
        await conversations.add_message(conversation, direction="out", author="agent", text=text,
                                        channel="web", status="queued")
        await session.commit()


# -- unauthenticated reads and writes ---------------------------------------------------------


async def test_a_bare_sender_cannot_speak_nor_learn_anything(web: Web) -> None:
    response = await web.http.post("/channels/web/messages", json={"sender": RITA, "text": "quanto devo?"})
    assert response.status_code == 401
    assert "token" in response.json()["detail"]
    for secret in ("Distribuidora", "Acme", "7.350", "7350", "R$"):
        assert secret not in response.text
    assert web.dialogue.calls == []
    async with web.container.sessions() as session:
        assert list(await session.scalars(select(db.Message))) == []


async def test_a_bare_sender_cannot_read_nor_swallow_the_agent_reply(web: Web) -> None:
    await agent_says(web, RITA, "Olá Rita, sua dívida de R$ 7.350,00 pode ser parcelada.")
    stolen = await web.http.get("/channels/web/messages", params={"sender": RITA})
    assert stolen.status_code == 401 and "7.350" not in stolen.text
    assert len(await web.queued_for(RITA)) == 1  # still waiting for the real debtor
    mine = await web.http.get("/channels/web/messages", params={"token": web.token()})
    assert mine.status_code == 200
    assert [m["text"] for m in mine.json()["messages"]] == [
        "Olá Rita, sua dívida de R$ 7.350,00 pode ser parcelada."]
    assert await web.queued_for(RITA) == []


async def test_the_chat_page_exists_only_in_demo_mode(web: Web) -> None:
    page = await web.http.get("/chat")
    assert page.status_code == 404 and RITA not in page.text


async def test_a_wrong_admin_token_is_refused(web: Web) -> None:
    response = await web.http.post("/channels/web/messages", json={"sender": RITA, "text": "oi"},
                                   headers={"Authorization": "Bearer not-the-token"})
    assert response.status_code == 401


@pytest.mark.parametrize("body", [{"text": "oi"}, {"sender": RITA, "token": "v1.a.b", "text": "oi"}])
async def test_exactly_one_identity_is_given(web: Web, body: dict[str, str]) -> None:
    response = await web.http.post("/channels/web/messages", json=body, headers=ADMIN)
    assert response.status_code == 422 and "token" in response.text


# -- the trusted integration and the portal link ----------------------------------------------


async def test_the_admin_token_speaks_as_sender_with_the_contract_shape(web: Web) -> None:
    response = await web.http.post("/channels/web/messages", json={"sender": RITA, "text": "oi"},
                                   headers=ADMIN)
    assert response.status_code == 200
    assert set(response.json()) == {"replies"} and response.json()["replies"][0]["text"]
    polled = await web.http.get("/channels/web/messages", params={"sender": RITA}, headers=ADMIN)
    assert polled.status_code == 200


async def test_a_link_token_speaks_as_its_contact(web: Web) -> None:
    response = await web.http.post("/channels/web/messages", json={"token": web.token(), "text": "oi"})
    assert response.status_code == 200 and response.json()["replies"]
    async with web.container.sessions() as session:
        [message] = list(await session.scalars(select(db.Message).where(db.Message.direction == "in")))
        conversation = await session.get(db.Conversation, message.conversation_id)
        assert conversation is not None
        contact = await session.get(db.Contact, conversation.contact_id)
    assert contact is not None and contact.address == RITA and message.text == "oi"


async def test_expired_forged_and_foreign_tokens_are_refused(web: Web) -> None:
    good = web.token(days=1)
    payload = good.split(".")[1]
    forged_payload = web.token(address=OTHER, debtor="beta", creditor="outra").split(".")[1]
    refused = {
        "expired": None,
        "forged": f"v1.{forged_payload}.{good.split('.')[2]}",
        "other secret": web.token(secret="another-secret-0123456789"),
        "truncated": good[:-3],
        "garbage": "v1.%%%.***",
        "rebound": web.token(address=RITA, debtor="beta", creditor="outra"),  # not beta's contact
        "payload only": f"v1.{payload}",
    }
    web.clock.moment = NOW + timedelta(days=1, seconds=1)
    refused["expired"] = good
    for why, token in refused.items():
        assert token is not None
        response = await web.http.post("/channels/web/messages", json={"token": token, "text": "oi"})
        assert response.status_code == 401, why
        polled = await web.http.get("/channels/web/messages", params={"token": token})
        assert polled.status_code == 401, why
    expired = await web.http.post("/channels/web/messages", json={"token": good, "text": "oi"})
    assert "expired" in expired.json()["detail"]
    assert web.dialogue.calls == []


async def test_the_portal_page_is_bound_to_its_token(web: Web) -> None:
    token = web.token()
    page = await web.http.get(f"/p/{token}")
    assert page.status_code == 200
    assert token in page.text and "Acme Comércio Ltda" in page.text and "Distribuidora Exemplo" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'id="sender"' not in page.text and "financeiro@" not in page.text  # no address picker
    invalid = await web.http.get("/p/v1.nope.nope")
    assert invalid.status_code == 404
    assert "Link inválido" in invalid.text and "Invalid link" in invalid.text
    web.clock.moment = NOW + timedelta(days=8)
    expired = await web.http.get(f"/p/{token}")
    assert expired.status_code == 410 and "expirou" in expired.text and "expired" in expired.text


async def test_without_a_secret_links_are_off(tmp_path: Path) -> None:
    async for web in open_web(tmp_path, link_secret=None):
        response = await web.http.post("/channels/web/messages", json={"token": web.token(), "text": "x"})
        assert response.status_code == 401 and "ACORDO_LINK_SECRET" in response.json()["detail"]
        assert (await web.http.get(f"/p/{web.token()}")).status_code == 404


# -- demo mode ------------------------------------------------------------------------------


async def test_demo_mode_accepts_bare_senders_of_the_demo_creditor_only(demo: Web) -> None:
    ok = await demo.http.post("/channels/web/messages", json={"sender": RITA, "text": "oi"})
    assert ok.status_code == 200
    assert (await demo.http.get("/channels/web/messages", params={"sender": RITA})).status_code == 200
    other = await demo.http.post("/channels/web/messages", json={"sender": OTHER, "text": "oi"})
    assert other.status_code == 401 and "Outra" not in other.text
    assert (await demo.http.get("/channels/web/messages", params={"sender": OTHER})).status_code == 401
    unknown = await demo.http.post("/channels/web/messages", json={"sender": "x@y.z", "text": "oi"})
    assert unknown.status_code == 401
    page = await demo.http.get("/chat")
    assert page.status_code == 200 and "financeiro@padariasol.com.br" in page.text
    assert OTHER not in page.text and RITA not in page.text  # only the demo portfolio's contacts


# -- the token itself -------------------------------------------------------------------------


def test_a_token_round_trips_and_names_its_contact() -> None:
    clock = FixedClock(NOW)
    signer = PortalLinkSigner(SECRET, clock)
    token, issued = signer.issue("demo", "açaí-1", "ana@x", timedelta(days=2))
    assert token.startswith("v1.") and token.isascii() and "=" not in token
    link = signer.verify(token)
    assert link == issued and link.expires_at == NOW + timedelta(days=2)
    clock.moment = link.expires_at
    with pytest.raises(InvalidLink, match="expired"):
        signer.verify(token)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"v1\.[A-Za-z0-9_-]{0,80}\.[A-Za-z0-9_-]{0,60}",
                                              fullmatch=True))
def test_any_other_string_is_an_invalid_link(text: str) -> None:
    signer = PortalLinkSigner(SECRET, FixedClock(NOW))
    with pytest.raises(InvalidLink, match="invalid"):
        signer.verify(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=200), st.characters(codec="ascii"))
def test_changing_any_character_breaks_the_signature(position: int, replacement: str) -> None:
    signer = PortalLinkSigner(SECRET, FixedClock(NOW))
    token, _ = signer.issue("demo", "acme", RITA, timedelta(days=1))
    position %= len(token)
    if token[position] == replacement:
        return
    with pytest.raises(InvalidLink):
        signer.verify(token[:position] + replacement + token[position + 1:])


# -- acordo portal link -----------------------------------------------------------------------


def test_portal_link_command_prints_a_working_link(tmp_path: Path) -> None:
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "ACORDO_LINK_SECRET": SECRET, "ACORDO_PUBLIC_URL": "https://cobranca.example",
           "COLUMNS": "300"}
    runner = CliRunner()
    assert runner.invoke(cli, ["demo", "load"], env=env).exit_code == 0
    done = runner.invoke(cli, ["portal", "link", "padaria-sol", "--days", "2"], env=env)
    assert done.exit_code == 0, done.output
    url = done.stdout.strip()
    assert url.startswith("https://cobranca.example/p/v1.")
    link = PortalLinkSigner(SECRET, FixedClock(NOW)).verify(url.rsplit("/p/", 1)[1])
    assert (link.creditor, link.debtor, link.address) == ("demo", "padaria-sol",
                                                          "financeiro@padariasol.com.br")
    unknown = runner.invoke(cli, ["portal", "link", "nobody"], env=env)
    assert unknown.exit_code == 1 and "no debtor 'nobody'" in unknown.stderr
    no_contact = runner.invoke(cli, ["portal", "link", "padaria-sol", "--contact", "zé"], env=env)
    assert no_contact.exit_code == 1 and "no contact" in no_contact.stderr
    off = runner.invoke(cli, ["portal", "link", "padaria-sol"], env={**env, "ACORDO_LINK_SECRET": ""})
    assert off.exit_code == 1 and "ACORDO_LINK_SECRET" in off.stderr


async def test_a_debtor_without_a_web_contact_gets_one_for_the_link(web: Web) -> None:
    from bot.api.web_identity import link_signer
    from bot.services.portal_links import issue_portal_link

    body = portfolio("demo", "zap", "+5511999990000", channel="whatsapp")
    assert (await web.http.post("/api/v1/portfolio", json=body, headers=ADMIN)).status_code == 200
    signer = link_signer(web.container)
    assert signer is not None
    issued = await issue_portal_link(web.container.uow, signer, "zap", timedelta(days=1))
    assert issued.address.startswith("portal:") and issued.contact_name == "Rita"
    again = await issue_portal_link(web.container.uow, signer, "zap", timedelta(days=1))
    assert again.address == issued.address  # the same web contact, not a new one each time
    response = await web.http.post("/channels/web/messages", json={"token": issued.token, "text": "oi"})
    assert response.status_code == 200


async def test_the_admin_api_issues_a_link_that_opens_the_chat(web: Web) -> None:
    refused = await web.http.post("/api/v1/portal/links", json={"debtor_external_id": "acme"})
    assert refused.status_code == 401
    response = await web.http.post("/api/v1/portal/links", headers=ADMIN,
                                   json={"debtor_external_id": "acme", "days": 2})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["link"].endswith(f"/p/{body['token']}") and body["contact_name"] == "Rita"
    assert body["expires_at"].startswith((NOW + timedelta(days=2)).date().isoformat())
    assert (await web.http.get(f"/p/{body['token']}")).status_code == 200
    missing = await web.http.post("/api/v1/portal/links", headers=ADMIN,
                                  json={"debtor_external_id": "nobody"})
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    too_long = await web.http.post("/api/v1/portal/links", headers=ADMIN,
                                   json={"debtor_external_id": "acme", "days": 91})
    assert too_long.status_code == 422
