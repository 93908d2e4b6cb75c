"""The hot path's transactions: one Telegram message, from the webhook to its reply queued,
commits four times (bot/services/update_claim.py) and the claim still keeps two processes apart."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import create_app
from bot.bootstrap import Container
from bot.clock import RunningClock
from bot.conversation import commands as cmd
from bot.conversation.outcome import Reply
from bot.devtools.emulators.telegram import TelegramEmulator
from bot.devtools.emulators.twilio import TwilioEmulator
from bot.storage import models as db
from bot.storage.channel_models import InboundUpdate, OutboxMessage
from tests.channels.conftest import (
    PORTFOLIO,
    PUBLIC_URL,
    RITA,
    SECRET,
    ButtonDialogue,
    Stack,
    channel_settings,
    private_message,
)
from tests.conftest import ADMIN_TOKEN, NOW
from tests.support.lifespan import lifespan

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def test_one_telegram_message_commits_four_times_up_to_its_queued_reply(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    container = stack.container
    refreshes: list[Any] = []
    refresh = AsyncSession.refresh

    async def counted_refresh(self: AsyncSession, instance: object, *args: Any, **kwargs: Any) -> None:
        refreshes.append(instance)
        await refresh(self, instance, *args, **kwargs)

    monkeypatch.setattr(AsyncSession, "refresh", counted_refresh)

    async def custom_action(conversation_id: str, text: str) -> list[Reply]:
        # What Rasa's custom action does over HTTP: one command, in its own transaction.
        outcome = await container.negotiation.execute(conversation_id, cmd.Greet(text=text))
        return list(outcome.replies)

    stack.dialogue.script = custom_action
    commits: list[Any] = []

    def committed(connection: Any) -> None:
        commits.append(connection)

    event.listen(container.engine.sync_engine, "commit", committed)
    try:
        response = await stack.telegram_update(private_message(90, int(RITA["telegram"]), "bom dia"))
        await container.channels.inbound.wait_idle()
    finally:
        event.remove(container.engine.sync_engine, "commit", committed)
    assert response.status_code == 200
    # The update stored; the claim with the message; the action; the replies with "processed".
    assert len(commits) == 4
    assert refreshes == []
    async with container.sessions() as session:
        queued = list(await session.scalars(select(OutboxMessage.idempotency_key)))
        update = await session.scalar(select(InboundUpdate))
        inbound = await session.scalar(select(db.Message).where(db.Message.direction == "in"))
    assert queued == ["reply:telegram:90:0"]
    assert update is not None and (update.status, update.attempts) == ("processed", 1)
    assert inbound is not None and inbound.status == "processed"


async def test_an_update_another_process_holds_is_left_to_it(stack: Stack) -> None:
    container = stack.container
    inbound = container.channels.inbound
    update_id = await inbound.store("telegram", "91", private_message(91, int(RITA["telegram"]), "oi"))
    assert update_id is not None
    now = container.clock.now()
    async with container.uow() as uow:  # another process claimed it a moment ago
        assert await uow.inbound_updates.claim(now, now.replace(year=now.year + 1), update_id)
        await uow.commit()
    inbound.process_later(update_id, "telegram", private_message(91, int(RITA["telegram"]), "oi"))
    await inbound.wait_idle()
    assert stack.dialogue.calls == []
    async with container.sessions() as session:
        messages = await session.scalar(select(func.count()).select_from(db.Message))
        update = await session.get(InboundUpdate, update_id)
    assert messages == 0
    assert update is not None and update.status == "processing"


async def test_a_crash_after_the_claim_rode_with_the_message_is_resumed_once_the_lease_ends(
        tmp_path: Path, emulators: tuple[TelegramEmulator, TwilioEmulator]) -> None:
    telegram, twilio = emulators
    dialogue = ButtonDialogue()

    async def crash(conversation_id: str, text: str) -> list[Reply]:
        raise asyncio.CancelledError  # the process dies while Rasa answers

    dialogue.script = crash
    settings = channel_settings(tmp_path, telegram.base_url, twilio)
    app = create_app(settings, clock=RunningClock(NOW), dialogue=dialogue)
    async with lifespan(app) as manager, _client(manager.app) as http:
        await http.post("/api/v1/portfolio", json=PORTFOLIO, headers=ADMIN)
        await http.post("/channels/telegram/webhook", json=private_message(92, int(RITA["telegram"]), "oi"),
                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        await app.state.container.channels.inbound.wait_idle()
    dialogue.script = None
    for minutes in (1, 3, 4):  # a start within the lease leaves it; after it, resumed once
        app = create_app(settings, clock=RunningClock(NOW + timedelta(minutes=minutes)), dialogue=dialogue)
        async with lifespan(app):
            container: Container = app.state.container
            await container.channels.inbound.wait_idle()
            await container.channels.new_dispatcher(backoff_base=0.01, poll_interval=0.01).run_until_idle()
        assert len(telegram.deliveries) == (0 if minutes == 1 else 1)
    async with container.sessions() as session:
        stored = list(await session.scalars(select(db.Message.status).where(db.Message.direction == "in")))
        update = await session.scalar(select(InboundUpdate))
    assert stored == ["processed"] and dialogue.calls and len(dialogue.calls) == 2
    assert update is not None and (update.status, update.attempts) == ("processed", 2)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)
