"""Fixtures for the staff web UIs: an app on SQLite with a scripted dialogue, staff users,
signed-in clients and a debtor whose conversation waits for a person."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from bot.app import create_app
from bot.bootstrap import Container
from bot.clock import FixedClock
from bot.services.staff_accounts import StaffAccounts
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.portfolio import PortfolioRepository
from tests.conftest import ADMIN_TOKEN, NOW, ScriptedDialogue, make_settings
from tests.support.lifespan import lifespan

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class ResumableDialogue(ScriptedDialogue):
    """A scripted dialogue that also records Rasa resumes (hand back)."""

    def __init__(self) -> None:
        super().__init__()
        self.resumed: list[tuple[str, dict[str, Any] | None]] = []

    async def resume(self, conversation_id: str, slots: dict[str, Any] | None = None) -> None:
        if self.down:
            from bot.dialogue.engine import DialogueUnavailable
            raise DialogueUnavailable("scripted outage")
        self.resumed.append((conversation_id, slots))


@dataclass
class Site:
    app: FastAPI
    asgi: Any  # the app wrapped by the lifespan manager (its state carries the container)
    dialogue: ResumableDialogue

    @property
    def container(self) -> Container:
        container: Container = self.app.state.container
        return container

    def client(self, address: str = "127.0.0.1", lang: str = "en") -> httpx.AsyncClient:
        """A client whose TCP peer address is ``address``, reading the staff pages in ``lang``
        (the cookie the header's language switch sets; these suites assert the English
        wording, tests/web/test_staff_i18n.py the Portuguese)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.asgi, client=(address, 123)),
                                 base_url="http://test", cookies={"acordo_staff_lang": lang})

    def debtor_client(self) -> httpx.AsyncClient:
        """A client speaking on the web channel as ``sender``: the trusted integration (the
        admin bearer token), as the web channel requires (docs/channels.md)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.asgi), base_url="http://test",
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})

    @asynccontextmanager
    async def signed_in(self, name: str, lang: str = "en") -> AsyncIterator[httpx.AsyncClient]:
        async with self.client(lang=lang) as client:
            response = await login(client, name, PASSWORD)
            assert response.status_code == 303, response.text
            yield client

    async def waiting_conversation(self, address: str = "ana@padaria.example", locale: str = "pt-BR") -> str:
        """A debtor (speaking ``locale``) on the web channel whose conversation was handed to a person."""
        body = {"creditor": "demo", "debtors": [{
            "external_id": f"deb-{address}", "name": "Padaria Sol Ltda", "tax_id": "11.444.777/0001-61",
            "locale": locale, "contacts": [{"name": "Ana Souza", "channel": "web", "address": address}],
            "debts": [{"external_id": f"NF-{address}", "amount": "6000.00", "currency": "BRL",
                       "due_date": "2026-11-06", "description": "NF 1"}]}]}
        async with self.client() as http:
            response = await http.post("/api/v1/portfolio", json=body,
                                       headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert response.status_code == 200, response.text
            self.dialogue.down = True
            await http.post("/channels/web/messages", json={"sender": address, "text": "quero um atendente"},
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            self.dialogue.down = False
        async with self.container.sessions() as session:
            contact = await PortfolioRepository(session).find_contact("web", address)
            assert contact is not None
            conversation = await ConversationRepository(session).for_contact(contact.id)
            assert conversation is not None and conversation.state == "human"
            return conversation.public_id


async def login(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    form = await client.get("/login")
    token = csrf_of(form.text)
    return await client.post("/login", data={"name": name, "password": password, "csrf_token": token,
                                              "next": "/agent"})


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    dialogue = ResumableDialogue()
    app = create_app(make_settings(tmp_path), clock=FixedClock(NOW), dialogue=dialogue)
    async with lifespan(app) as manager:
        site = Site(app, manager.app, dialogue)
        # Cheap argon2 parameters: the tests are about the flows, not the hash cost.
        site.container.staff = StaffAccounts(
            site.container.uow, site.container.clock,
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        await site.container.staff.add_user("alice", "agent", PASSWORD)
        await site.container.staff.add_user("bruno", "agent", PASSWORD)
        await site.container.staff.add_user("carla", "admin", PASSWORD)
        yield site
