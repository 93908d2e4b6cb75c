"""A web chat against the app with the real actions and a stand-in for Rasa's dialogue
(see rasa_stand_in.py), on the one-debtor portfolio of tests/support/portfolio.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bot.app import create_app
from bot.bootstrap import Container
from bot.clock import FixedClock
from bot.storage import models as db
from bot.storage.payment_models import Promise
from tests.conftest import ADMIN_TOKEN, NOW, make_settings
from tests.support.lifespan import lifespan
from tests.support.portfolio import PORTFOLIO
from tests.support.rasa_stand_in import Nlu, RuleDialogue

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SENDER = "rita@acme.com.br"


@dataclass
class Chat:
    http: httpx.AsyncClient
    container: Container
    dialogue: RuleDialogue

    async def say(self, text: str, intent: str = "out_of_scope",
                  confidence: float = 1.0) -> list[dict[str, Any]]:
        self.dialogue.next_nlu = Nlu(intent, confidence)
        response = await self.http.post("/channels/web/messages", headers=ADMIN,
                                        json={"sender": SENDER, "text": text})
        assert response.status_code == 200, response.text
        replies: list[dict[str, Any]] = response.json()["replies"]
        return replies

    async def counts(self) -> tuple[int, int, str]:
        """(agreements, promises, contact status)."""
        async with self.container.sessions() as session:
            agreements = await session.scalar(select(func.count()).select_from(db.Agreement))
            promises = await session.scalar(select(func.count()).select_from(Promise))
            status = await session.scalar(select(db.Contact.status))
        return int(agreements or 0), int(promises or 0), str(status)


async def open_chat(tmp_path: Path, portfolio: dict[str, Any] | None = None,
                    **settings: Any) -> AsyncIterator[Chat]:
    """The chat on ``portfolio`` (default: the one-debtor portfolio); ``settings`` override
    the test settings (e.g. ``policies_dir``)."""
    dialogue = RuleDialogue()
    app = create_app(make_settings(tmp_path, **settings), clock=FixedClock(NOW), dialogue=dialogue)
    async with lifespan(app) as manager:
        container: Container = app.state.container
        dialogue.executor = container.action_executor
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post("/api/v1/portfolio", json=portfolio or PORTFOLIO, headers=ADMIN)
            assert response.status_code == 200, response.text
            yield Chat(http, container, dialogue)
