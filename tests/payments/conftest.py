"""An app on SQLite with a clock the tests move, a debtor on the web chat and helpers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.bootstrap import Container
from bot.clock import FixedClock
from bot.conversation import commands as cmd
from bot.conversation.outcome import Outcome
from bot.devtools.emulators.certificates import PKIFiles, make_test_pki
from bot.devtools.emulators.pix import PixEmulator, WebhookFaults
from bot.payments.pix_api import PixApiProvider
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.portfolio import PortfolioRepository
from tests.conftest import ADMIN_TOKEN, NOW, ScriptedDialogue, make_settings
from tests.support.lifespan import lifespan
from tests.support.pix_psp import PUBLIC_URL, AppSender, pix_settings, pki_dir, webhook_url

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@dataclass
class Desk:
    container: Container
    http: httpx.AsyncClient
    clock: FixedClock

    def at(self, moment: datetime) -> None:
        self.clock.moment = moment

    async def debtor(self, external_id: str = "acme", amount: str = "3000.00", due: str = "2026-11-06",
                     channel: str = "web", address: str | None = None) -> str:
        """Load a debtor with one debt; returns the public id of its conversation."""
        address = address or f"fin@{external_id}.example"
        body = {"creditor": "demo", "debtors": [{
            "external_id": external_id, "name": f"{external_id.title()} Ltda", "tax_id": "52.601.815/9083-69",
            "locale": "pt-BR", "contacts": [{"name": "Rita Alves", "channel": channel, "address": address}],
            "debts": [{"external_id": f"NF-{external_id}", "amount": amount, "currency": "BRL",
                       "due_date": due, "description": "NF"}]}]}
        response = await self.http.post("/api/v1/portfolio", json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
        async with self.container.sessions() as session:
            contact = await PortfolioRepository(session).find_contact(channel, address)
            assert contact is not None
            conversation = await ConversationRepository(session).get_or_create(contact)
            await session.commit()
            return conversation.public_id

    async def say(self, conversation: str, command: cmd.Command) -> Outcome:
        """Run the command and store its replies as the chat would (the bot's messages)."""
        outcome = await self.container.negotiation.execute(conversation, command)
        async with self.container.sessions() as session:
            conversations = ConversationRepository(session)
            row = await conversations.by_public_id(conversation)
            assert row is not None
            for reply in outcome.replies:
                await conversations.add_message(
                    row, direction="out", author="bot", text=reply.template, channel="web",
                    status="sent", template=reply.template,
                    buttons=[{"title": b.title_template, "payload": b.payload} for b in reply.buttons])
            await session.commit()
        return outcome

    async def agree(self, conversation: str, installments: int = 3) -> Outcome:
        await self.say(conversation, cmd.OfferInstallments(text=f"{installments}x"))
        return await self.say(conversation, cmd.AcceptOffer(text="sim"))

    async def pay(self, **body: Any) -> httpx.Response:
        return await self.http.post("/api/v1/payments", json=body, headers=ADMIN)


async def _desk(tmp_path: Path, **settings: Any) -> AsyncIterator[Desk]:
    clock = FixedClock(NOW)
    app = create_app(make_settings(tmp_path, public_url="https://acordo.example", **settings),
                     clock=clock, dialogue=ScriptedDialogue())
    async with lifespan(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield Desk(app.state.container, http, clock)


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async for value in _desk(tmp_path):
        yield value


@pytest.fixture
async def fake_desk(tmp_path: Path) -> AsyncIterator[Desk]:
    async for value in _desk(tmp_path, payment_provider="fake", payment_webhook_secret="whsec"):
        yield value


@dataclass
class PixDesk(Desk):
    psp: PixEmulator
    sender: AppSender

    @property
    def provider(self) -> PixApiProvider:
        provider = self.container.payments.pix_api()
        assert provider is not None
        return provider


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKIFiles:
    return make_test_pki(pki_dir(tmp_path_factory))


@pytest.fixture
async def pix_desk(tmp_path: Path, pki: PKIFiles, request: pytest.FixtureRequest) -> AsyncIterator[PixDesk]:
    """An app whose charges go to the API Pix emulator (``@pytest.mark.psp(...)``: emulator
    keyword arguments; ``settings``: extra settings)."""
    marker = request.node.get_closest_marker("psp")
    options = dict(marker.kwargs) if marker else {}
    extra = options.pop("settings", {})
    if "webhook_faults" in options:
        options["webhook_faults"] = WebhookFaults(**options["webhook_faults"])
    clock = FixedClock(NOW)
    sender = AppSender()
    psp = PixEmulator(pki, clock=clock, sender=sender, **options)
    await psp.start()
    try:
        app = create_app(make_settings(tmp_path, public_url=PUBLIC_URL,
                                       **pix_settings(pki, psp, **extra)),
                         clock=clock, dialogue=ScriptedDialogue())
        async with lifespan(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                sender.http = http
                desk = PixDesk(app.state.container, http, clock, psp, sender)
                await desk.provider.register_webhook(webhook_url())
                yield desk
                await psp.settled()
    finally:
        await psp.stop()
