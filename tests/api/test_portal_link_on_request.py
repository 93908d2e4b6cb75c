"""Asked in the chat for the portal link ("me manda o link", "send me the link"), the bot
answers with a new stored link (issued by ``bot``) without asking the dialogue engine; a
payment link request still goes to the dialogue; without a link secret it says so politely."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.channels.web_links import token_hash
from bot.storage.portal_link_models import StoredPortalLink
from tests.conftest import ScriptedDialogue, make_settings
from tests.support.lifespan import lifespan
from tests.support.portal import ACME, ADMIN, BETA, Portal, debtor, open_portal

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async for opened in open_portal(tmp_path):
        yield opened


def dialogue_calls(portal: Portal) -> list[tuple[str, str]]:
    engine = portal.container.dialogue
    assert isinstance(engine, ScriptedDialogue)
    return engine.calls


async def say(portal: Portal, token: str, text: str) -> str:
    response = await portal.http.post("/channels/web/messages", json={"token": token, "text": text})
    assert response.status_code == 200, response.text
    return "\n".join(r["text"] for r in response.json()["replies"])


async def test_asked_for_the_link_the_bot_sends_a_new_one(portal: Portal) -> None:
    token = portal.token()
    answer = await say(portal, token, "me manda o link")
    assert "Aqui está o link da sua página" in answer and "http://test/p/v1." in answer
    assert dialogue_calls(portal) == []
    new = answer.split("http://test/p/", 1)[1].split()[0]
    assert new != token
    issued = [r for r in await portal.rows(StoredPortalLink) if r.issued_by == "bot"]
    assert [r.token_hash for r in issued] == [token_hash(new)]
    assert (await portal.http.get(f"/p/{new}")).status_code == 200

    english = await say(portal, portal.token(BETA), "can I see it on a page?")
    assert "Here is the link to your page" in english and "http://test/p/v1." in english


async def test_a_payment_link_request_goes_to_the_dialogue(portal: Portal) -> None:
    token = portal.token(ACME)
    for text in ("manda o link de pagamento", "o link do pix não abre"):
        await say(portal, token, text)
    assert [text for _, text in dialogue_calls(portal)] == ["manda o link de pagamento",
                                                            "o link do pix não abre"]
    assert [r.issued_by for r in await portal.rows(StoredPortalLink)] == ["test"]


async def test_without_a_secret_the_bot_says_it_cannot_send_a_link(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path), dialogue=ScriptedDialogue())
    async with lifespan(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            body = {"creditor": "demo", "debtors": [debtor(*ACME)]}
            assert (await http.post("/api/v1/portfolio", json=body, headers=ADMIN)).status_code == 200
            response = await http.post("/channels/web/messages", headers=ADMIN,
                                       json={"sender": ACME[1], "text": "manda o link do portal"})
    assert response.status_code == 200
    [reply] = response.json()["replies"]
    assert reply["text"].startswith("Desculpe, não consigo enviar um link agora.")
    assert "/p/" not in reply["text"]
