"""The agent console: queue, take (one agent only), reply through the web channel, offers
within the agent limits (marked when beyond the bot's), agreements, notes, hand back."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import httpx
from sqlalchemy import select

from bot.negotiation.offers import Offer
from bot.staff.agent_console import live_events
from bot.storage import models as db
from bot.storage.models import AuditEvent, Conversation
from bot.storage.payment_models import Promise
from tests.support.agent_console import ADDRESS, post
from tests.web.conftest import Site


async def audit(site: Site) -> list[AuditEvent]:
    async with site.container.sessions() as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


async def test_queue_lists_the_waiting_conversation(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        page = await http.get("/agent")
        assert public_id in page.text and "Padaria Sol Ltda" in page.text
        assert "dialogue_unavailable" in page.text
        conversation = await http.get(f"/agent/c/{public_id}")
        assert "quero um atendente" in conversation.text and "NF-" in conversation.text


async def test_two_agents_cannot_take_the_same_conversation(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as alice, site.signed_in("bruno") as bruno:
        await post(alice, public_id, "take")
        refused = await post(bruno, public_id, "take")
        assert "already+taken+by+alice" in refused.headers["location"] or \
            "already%20taken%20by%20alice" in refused.headers["location"]
        reply = await post(bruno, public_id, "reply", text="oi")
        assert "error=" in reply.headers["location"]


async def test_concurrent_takes_have_one_winner(site: Site) -> None:
    public_id = await site.waiting_conversation()
    desk = site.container.agent_desk
    alice = await site.container.staff.login("alice", "correct horse battery", "t")
    bruno = await site.container.staff.login("bruno", "correct horse battery", "t")
    results = await asyncio.gather(desk.take(alice[1], public_id), desk.take(bruno[1], public_id),
                                   return_exceptions=True)
    assert sum(1 for r in results if r is None) == 1
    view = await desk.view(public_id)
    assert view.taken_by in {"alice", "bruno"}


async def test_agent_reply_reaches_the_debtor_web_chat(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        await post(http, public_id, "take")
        await post(http, public_id, "reply", text="Olá Ana, aqui é a Alice <b>da equipe</b>.")
        await post(http, public_id, "note", text="cliente parece irritada")
        page = await http.get(f"/agent/c/{public_id}")
        assert "&lt;b&gt;da equipe&lt;/b&gt;" in page.text  # autoescaped
    async with site.debtor_client() as debtor:
        polled = (await debtor.get("/channels/web/messages", params={"sender": ADDRESS})).json()
        texts = [m["text"] for m in polled["messages"]]
        assert texts == ["Olá Ana, aqui é a Alice <b>da equipe</b>."]
        assert polled["messages"][0]["author"] == "agent"
        again = await debtor.get("/channels/web/messages",
                                 params={"sender": ADDRESS, "after": polled["last_id"]})
        assert again.json()["messages"] == []  # delivered once; the note never goes out
    kinds = [e.kind for e in await audit(site)]
    assert {"conversation_taken", "agent_reply", "note_added"} <= set(kinds)


async def test_offer_beyond_bot_limits_is_marked_and_agent_limits_hold(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        await post(http, public_id, "take")
        await post(http, public_id, "offer", kind="installments", count="10")  # bot max 6, agent 12
        too_far = await post(http, public_id, "offer", kind="installments", count="13")
        assert "error=" in too_far.headers["location"]
        too_much = await post(http, public_id, "offer", kind="full_payment", discount_percent="20")
        assert "error=" in too_much.headers["location"]
        await post(http, public_id, "agreement")
    offers = [e for e in await audit(site) if e.kind == "offer_made"]
    assert len(offers) == 1 and offers[0].actor == "agent:alice"
    assert offers[0].data["beyond_bot_limits"] is True
    assert "installments_above_max" in offers[0].data["bot_limits_crossed"]
    async with site.debtor_client() as debtor:
        texts = [m["text"] for m in (await debtor.get(
            "/channels/web/messages", params={"sender": ADDRESS})).json()["messages"]]
    assert "10 parcelas" in texts[0] and "Acordo registrado" in texts[1]
    view = await site.container.agent_desk.view(public_id)
    assert view.agreements[0].created_by == "agent" and len(view.agreements[0].installments) == 10


async def test_hand_back_resumes_rasa_and_the_bot_picks_up(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        await post(http, public_id, "take")
        await post(http, public_id, "offer", kind="installments", count="8")
        await post(http, public_id, "handback", note="ofereci 8x, aguardando resposta")
    assert site.dialogue.resumed == [(public_id, {"offer_pending": True})]
    async with site.container.sessions() as session:
        conversation = await session.scalar(select(Conversation).where(Conversation.public_id == public_id))
        assert conversation is not None and conversation.state == "bot"
        assert conversation.negotiation is not None and conversation.negotiation["stage"] == "offered"
    async with site.debtor_client() as debtor:
        messages = (await debtor.get("/channels/web/messages", params={"sender": ADDRESS})).json()["messages"]
    assert messages[-1]["author"] == "bot" and "proposta enviada" in messages[-1]["text"]
    # The buttons answer the agent's offer (the one still current), by its reference.
    offer = conversation.negotiation["current_offer"]
    reference = Offer.model_validate(offer).reference
    assert {b["payload"] for b in messages[-1]["buttons"]} == {
        f'/affirm{{"offer_id":"{reference}"}}', f'/deny{{"offer_id":"{reference}"}}'}
    # The bot answers again.
    async with site.debtor_client() as debtor:
        replies = (await debtor.post("/channels/web/messages",
                                     json={"sender": ADDRESS, "text": "ok"})).json()["replies"]
    assert replies
    assert "handed_back" in [e.kind for e in await audit(site)]


async def test_hand_back_keeps_the_conversation_when_rasa_is_down(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        await post(http, public_id, "take")
        site.dialogue.down = True
        response = await post(http, public_id, "handback")
        assert "Rasa" in httpx.URL(response.headers["location"]).params["error"]
    view = await site.container.agent_desk.view(public_id)
    assert view.state == "human" and view.taken_by == "alice"


async def test_dispute_promise_and_close(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        await post(http, public_id, "take")
        await post(http, public_id, "promise", when="2026-12-01")
        await post(http, public_id, "dispute", reason="valor errado")
        await post(http, public_id, "close", confirm="yes")
    view = await site.container.agent_desk.view(public_id)
    assert view.state == "bot" and view.taken_by is None
    assert {d.status for d in view.debts} == {"disputed"}
    kinds = [e.kind for e in await audit(site)]
    assert {"promise_to_pay", "dispute_marked", "conversation_closed"} <= set(kinds)
    assert site.dialogue.resumed  # Rasa resumed without a message
    # The agent's promise is a promises row the follow-up reminds and the dashboard counts,
    # confirmed to the debtor in the conversation.
    async with site.container.sessions() as session:
        [promise] = list(await session.scalars(select(Promise)))
        confirmations = list(await session.scalars(select(db.Message).where(
            db.Message.template == "promise_recorded")))
    assert (promise.promised_date, promise.status) == (date(2026, 12, 1), "pending")
    assert [(m.author, m.direction) for m in confirmations] == [("agent", "out")]


async def test_live_events_report_a_new_inbound_message(site: Site) -> None:
    public_id = await site.waiting_conversation()
    view = await site.container.agent_desk.view(public_id)
    stream = live_events(site.container.agent_desk, _never, public_id, view.last_message_id, poll=0.05)
    assert await anext(stream) == "retry: 1000\n\n"
    async with site.debtor_client() as debtor:
        await debtor.post("/channels/web/messages", json={"sender": ADDRESS, "text": "alguem ai?"})
    event = await asyncio.wait_for(anext(stream), 1.0)
    assert event.startswith("event: message")
    assert json.loads(event.split("data: ", 1)[1])["text"] == "alguem ai?"
    assert (await asyncio.wait_for(anext(stream), 1.0)).startswith("event: changed")
    await stream.aclose()


async def _never() -> bool:
    return False
