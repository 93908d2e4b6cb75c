"""Idempotent inbound: stored before 200, resumed after a crash, answered once; opt-out keywords."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bot.app import create_app
from bot.bootstrap import Container
from bot.clock import RunningClock
from bot.devtools.emulators.telegram import TelegramEmulator
from bot.devtools.emulators.twilio import TwilioEmulator
from bot.services.opt_out import is_opt_out_keyword
from bot.storage import models as db
from bot.storage.channel_models import InboundUpdate
from tests.channels.conftest import (
    PORTFOLIO,
    PUBLIC_URL,
    RITA,
    ButtonDialogue,
    Stack,
    channel_settings,
    private_message,
    twilio_inbound,
)
from tests.conftest import ADMIN_TOKEN, NOW
from tests.support.lifespan import lifespan


@pytest.mark.parametrize(("text", "expected"), [
    ("STOP", True), ("parar", True), ("Sair.", True), ("CANCELAR", True), ("descadastrar!", True),
    ("Unsubscribe", True), ("  stop  ", True), ("Párar", True),
    ("quero cancelar o boleto", False), ("stop sending the invoice to ana", False), ("sim", False),
])
def test_opt_out_keywords_pt_and_en(text: str, expected: bool) -> None:
    assert is_opt_out_keyword(text) is expected


@pytest.mark.parametrize("keyword", ["PARAR", "unsubscribe"])
async def test_opt_out_suppresses_every_channel_with_one_confirmation(stack: Stack, keyword: str) -> None:
    await stack.twilio_post("/channels/twilio/messages", twilio_inbound("SM1", f"whatsapp:{RITA['whatsapp']}",
                                                                       keyword))
    await stack.telegram_update(private_message(5, int(RITA["telegram"]), "STOP"))  # again, elsewhere
    await stack.settle()
    # Both are processed at once: whichever channel's message wins confirms, the other not.
    [confirmation] = stack.twilio.deliveries + stack.telegram.deliveries
    assert "não enviaremos mais" in confirmation.text
    assert stack.dialogue.calls == []
    async with stack.container.sessions() as session:
        statuses = set(await session.scalars(select(db.Contact.status)))
        events = list(await session.scalars(select(db.AuditEvent).where(db.AuditEvent.kind == "opted_out")))
    assert statuses == {"opted_out"}
    winner = keyword if stack.twilio.deliveries else "STOP"
    assert len(events) == 1 and events[0].data["text"] == winner and events[0].at is not None


@asynccontextmanager
async def app_on(tmp_path: Path, telegram: TelegramEmulator, twilio: TwilioEmulator,
                 dialogue: ButtonDialogue) -> AsyncIterator[tuple[httpx.AsyncClient, Container]]:
    app = create_app(channel_settings(tmp_path, telegram.base_url, twilio), clock=RunningClock(NOW),
                     dialogue=dialogue)
    async with lifespan(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
            yield http, app.state.container


async def settle(container: Container) -> None:
    await container.channels.inbound.wait_idle()
    await container.channels.new_dispatcher(backoff_base=0.01, poll_interval=0.01).run_until_idle()


async def test_crash_after_store_and_before_reply_resumes_and_replies_once(
        tmp_path: Path, emulators: tuple[TelegramEmulator, TwilioEmulator]) -> None:
    telegram, twilio = emulators
    dialogue = ButtonDialogue()
    chat = int(RITA["telegram"])
    async with app_on(tmp_path, telegram, twilio, dialogue) as (http, container):
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        await http.post("/api/v1/portfolio", json=PORTFOLIO, headers=admin)
        # (1) The webhook stored update 70 and answered 200; the process died before processing it.
        assert await container.channels.inbound.store("telegram", "70", private_message(70, chat, "oi"))
        # (2) Update 71 got as far as the conversation (message and replies stored), not the outbox.
        assert await container.channels.inbound.store("telegram", "71", private_message(71, chat, "e ai"))
        await container.conversations.handle_inbound("telegram", str(chat), "e ai", "71")
    assert telegram.deliveries == []
    for _ in range(2):  # restart, and restart again: nothing is lost, nothing is sent twice
        async with app_on(tmp_path, telegram, twilio, dialogue) as (_, container):
            await settle(container)
    assert sorted(d.key or "" for d in telegram.deliveries) == ["reply:telegram:70:0", "reply:telegram:71:0"]
    assert sorted(text for _, text in dialogue.calls) == ["e ai", "oi"]
    async with container.sessions() as session:
        inbound = await session.scalar(select(func.count()).select_from(db.Message)
                                       .where(db.Message.direction == "in"))
        pending = await session.scalar(select(func.count()).select_from(InboundUpdate)
                                       .where(InboundUpdate.status != "processed"))
    assert inbound == 2 and pending == 0
