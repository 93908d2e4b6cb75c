"""Channel fixtures: the Telegram and Twilio emulators, and the app wired to them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.app import create_app
from bot.bootstrap import Container
from bot.channels import telegram as _telegram  # noqa: F401  (aiogram's import takes seconds: pay it once)
from bot.clock import RunningClock
from bot.conversation.outcome import Button, Reply
from bot.devtools.emulators.telegram import TelegramEmulator
from bot.devtools.emulators.twilio import TwilioEmulator
from tests.conftest import ADMIN_TOKEN, NOW, make_settings
from tests.support.lifespan import lifespan

PUBLIC_URL = "https://acordo.example.com"
SECRET = "webhook-secret-123"
RITA = {"telegram": "1001", "whatsapp": "+5511999990001", "sms": "+5511999990002", "web": "rita@acme.com.br"}
PORTFOLIO: dict[str, Any] = {
    "creditor": "demo",
    "debtors": [{
        "external_id": "acme", "name": "Acme Comércio Ltda", "tax_id": "52.601.815/9083-69",
        "timezone": "America/Sao_Paulo", "locale": "pt-BR",
        "contacts": [{"name": "Rita Alves", "channel": channel, "address": address}
                     for channel, address in RITA.items()],
        "debts": [{"external_id": "NF-9", "amount": "1000.00", "currency": "BRL",
                   "due_date": "2026-10-01", "description": "NF 9"}],
    }],
}


class ButtonDialogue:
    """Answers every message with one reply carrying two offer buttons (or, when a test sets
    ``script``, with what the script answers)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.script: Callable[[str, str], Awaitable[list[Reply]]] | None = None

    async def respond(self, conversation_id: str, text: str,
                      metadata: dict[str, Any] | None = None) -> list[Reply]:
        self.calls.append((conversation_id, text))
        if self.script is not None:
            return await self.script(conversation_id, text)
        if text.strip().lower() in ("quero sair", "please stop messaging me"):
            return []  # the opt-out intent path is covered by the negotiation tests
        return [Reply("clarify", {"creditor_name": "X", "debtor_name": "Y", "contact_name": "Z"},
                      (Button("button_accept", "/affirm"), Button("button_refuse", "/deny")))]

    async def is_ready(self) -> bool:
        return True


@dataclass
class Stack:
    http: httpx.AsyncClient
    app: FastAPI
    telegram: TelegramEmulator
    twilio: TwilioEmulator
    dialogue: ButtonDialogue

    @property
    def container(self) -> Container:
        container: Container = self.app.state.container
        return container

    async def settle(self) -> None:
        """Process stored inbound updates and dispatch the outbox until idle."""
        runtime = self.container.channels
        await runtime.inbound.wait_idle()
        await runtime.new_dispatcher(backoff_base=0.01, poll_interval=0.01).run_until_idle()

    async def telegram_update(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return await self.http.post("/channels/telegram/webhook", json=update, headers=headers)

    async def twilio_post(self, path: str, params: dict[str, str], *, sign_url: str | None = None,
                          signature: str | None = None) -> httpx.Response:
        url = sign_url or PUBLIC_URL + path
        headers = self.twilio.signed(url, params)
        if signature is not None:
            headers = {"X-Twilio-Signature": signature} if signature else {}
        return await self.http.post(path, data=params, headers=headers)


def channel_settings(tmp_path: Path, telegram_url: str, twilio: TwilioEmulator, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "telegram_token": "42:TEST", "telegram_webhook_secret": SECRET, "telegram_api_url": telegram_url,
        "twilio_account_sid": twilio.account_sid, "twilio_auth_token": twilio.auth_token,
        "twilio_api_url": twilio.base_url, "twilio_sms_from": "+5511900000000",
        "twilio_whatsapp_from": "+5511900000001", "public_url": PUBLIC_URL,
        "outbox_in_app": False, "channel_send_timeout_seconds": 1,
        "telegram_bot_username": "acordo_test_bot",
    }
    values.update(overrides)
    return make_settings(tmp_path, **values)


@pytest.fixture
async def emulators() -> AsyncIterator[tuple[TelegramEmulator, TwilioEmulator]]:
    telegram, twilio = TelegramEmulator(), TwilioEmulator()
    await telegram.start()
    await twilio.start()
    try:
        yield telegram, twilio
    finally:
        await telegram.stop()
        await twilio.stop()


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def stack(tmp_path: Path, emulators: tuple[TelegramEmulator, TwilioEmulator],
                settings_overrides: dict[str, Any]) -> AsyncIterator[Stack]:
    telegram, twilio = emulators
    dialogue = ButtonDialogue()
    settings = channel_settings(tmp_path, telegram.base_url, twilio, **settings_overrides)
    app = create_app(settings, clock=RunningClock(NOW), dialogue=dialogue)
    async with lifespan(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL) as http:
            loaded = await http.post("/api/v1/portfolio", json=PORTFOLIO,
                                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert loaded.status_code == 200, loaded.text
            yield Stack(http, app, telegram, twilio, dialogue)


def private_message(update_id: int, chat_id: int, text: str, chat_type: str = "private") -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type == "private":
        chat["first_name"] = "Rita"
    else:
        chat["title"] = "Finance team"
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 1_780_000_000, "chat": chat, "text": text,
        "from": {"id": abs(chat_id), "is_bot": False, "first_name": "Rita"}}}


def button_press(update_id: int, chat_id: int, data: str) -> dict[str, Any]:
    return {"update_id": update_id, "callback_query": {
        "id": f"cb{update_id}", "chat_instance": "ci", "data": data,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Rita"},
        "message": {"message_id": 1, "date": 1_780_000_000, "chat": {"id": chat_id, "type": "private"},
                    "text": "offer"}}}


def twilio_inbound(sid: str, sender: str, body: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+5511900000000", "Body": body, "NumMedia": "0"}
