"""The reply-first console: take on reply (one winner of two), the page opening at the reply
box, a refused offer keeping its values, closing only once confirmed with a closing message."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from bot.services.agent_desk.errors import TakeConflict
from bot.storage import models as db
from tests.support.agent_console import ADDRESS, post
from tests.web.conftest import PASSWORD, Site


async def debtor_texts(site: Site) -> list[str]:
    async with site.debtor_client() as debtor:
        polled = await debtor.get("/channels/web/messages", params={"sender": ADDRESS})
    return [m["text"] for m in polled.json()["messages"]]


async def test_the_reply_box_of_a_free_conversation_takes_and_sends(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        page = await http.get(f"/agent/c/{public_id}")
        assert 'id="reply"' in page.text and "autofocus" in page.text
        assert 'name="take" value="1"' in page.text and "Take and send" in page.text
        sent = await post(http, public_id, "reply", text="Olá, aqui é a Alice.", take="1")
        assert sent.headers["location"].endswith("?msg=Sent.")
        after = await http.get(f"/agent/c/{public_id}")
        assert 'name="take"' not in after.text and "Send reply" in after.text
    assert await debtor_texts(site) == ["Olá, aqui é a Alice."]
    view = await site.container.agent_desk.view(public_id)
    assert view.taken_by == "alice"
    async with site.container.sessions() as session:
        kinds = list(await session.scalars(select(db.AuditEvent.kind).order_by(db.AuditEvent.id)))
    assert kinds[-2:] == ["conversation_taken", "agent_reply"]


async def test_take_opens_the_page_with_the_reply_box_focused(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        taken = await post(http, public_id, "take")
        page = await http.get(taken.headers["location"])
    assert '<textarea id="reply" name="text" rows="3" required aria-describedby="reply-hint" autofocus>' \
        in page.text


async def test_two_agents_replying_at_once_one_wins(site: Site) -> None:
    public_id = await site.waiting_conversation()
    desk = site.container.agent_desk
    alice = await site.container.staff.login("alice", PASSWORD, "t")
    bruno = await site.container.staff.login("bruno", PASSWORD, "t")
    assert alice is not None and bruno is not None
    results = await asyncio.gather(desk.reply(alice[1], public_id, "sou a Alice", take=True),
                                   desk.reply(bruno[1], public_id, "sou o Bruno", take=True),
                                   return_exceptions=True)
    assert sum(1 for r in results if r is None) == 1
    [refusal] = [r for r in results if r is not None]
    assert isinstance(refusal, TakeConflict) and "already taken by" in str(refusal)
    texts = await debtor_texts(site)
    assert len(texts) == 1  # only the winner's reply went out
    winner = (await desk.view(public_id)).taken_by
    assert texts == [f"sou {'a Alice' if winner == 'alice' else 'o Bruno'}"]


async def test_replying_to_a_conversation_another_agent_holds_is_refused(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as alice, site.signed_in("bruno") as bruno:
        await post(alice, public_id, "take")
        refused = await post(bruno, public_id, "reply", text="oi", take="1")
        assert httpx.URL(refused.headers["location"]).params["error"] == "already taken by alice"
    assert await debtor_texts(site) == []


async def test_a_refused_offer_comes_back_with_the_agents_values(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        await post(http, public_id, "take")
        refused = await post(http, public_id, "offer", kind="full_payment", count="3",
                             discount_percent="20", down_payment="150,00")
        location = httpx.URL(refused.headers["location"])
        assert "outside the agent limits" in location.params["error"]
        page = await http.get(location)
    assert '<option value="full_payment" selected>' in page.text
    assert 'id="offer-count" type="number" min="1" max="12" value="3"' in page.text
    assert 'id="offer-discount" value="20"' in page.text
    assert 'id="offer-down" inputmode="decimal" value="150,00"' in page.text
    assert "outside the agent limits" in page.text


async def test_close_needs_the_confirmation_and_says_goodbye(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice", lang="pt-BR") as http:
        await post(http, public_id, "take")
        page = await http.get(f"/agent/c/{public_id}")
        assert "Confirmo o encerramento" in page.text
        unconfirmed = await post(http, public_id, "close")
        assert "error=" in unconfirmed.headers["location"]
        assert (await site.container.agent_desk.view(public_id)).state == "human"
        await post(http, public_id, "close", confirm="yes")
    view = await site.container.agent_desk.view(public_id)
    assert view.state == "bot" and view.taken_by is None
    [closing] = await debtor_texts(site)
    assert "Encerramos este atendimento" in closing and "Distribuidora Exemplo Ltda" in closing


async def test_the_refusal_names_the_holder_in_portuguese(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as alice, site.signed_in("bruno", lang="pt-BR") as bruno:
        await post(alice, public_id, "take")
        refused = await post(bruno, public_id, "reply", text="oi", take="1")
        page = await bruno.get(refused.headers["location"])
    assert "já assumida por alice" in page.text
