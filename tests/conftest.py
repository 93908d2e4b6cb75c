"""Shared fixtures: settings on a temporary SQLite file and an app with a scripted dialogue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import create_app
from bot.clock import FixedClock
from bot.config import Settings
from bot.conversation.outcome import Reply
from bot.dialogue.engine import DialogueUnavailable
from tests.support.lifespan import lifespan

pytest_plugins = ["tests.support.requirements"]

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token"
# A Thursday, 10:00 in São Paulo.
NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


class ScriptedDialogue:
    """A DialogueEngine for API tests that do not need understanding: echoes a template."""

    def __init__(self) -> None:
        self.down = False
        self.calls: list[tuple[str, str]] = []

    async def respond(self, conversation_id: str, text: str,
                      metadata: dict[str, Any] | None = None) -> list[Reply]:
        self.calls.append((conversation_id, text))
        if self.down:
            raise DialogueUnavailable("scripted outage")
        return [Reply("clarify", {"creditor_name": "X", "debtor_name": "Y", "contact_name": "Z"})]

    async def is_ready(self) -> bool:
        return not self.down


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'acordo.db'}",
        "policies_dir": ROOT / "policies",
        "templates_dir": ROOT / "templates",
        "admin_token": ADMIN_TOKEN,
        "action_token": None,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def scripted() -> ScriptedDialogue:
    return ScriptedDialogue()


@pytest.fixture
async def client(tmp_path: Path, scripted: ScriptedDialogue) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path), clock=FixedClock(NOW), dialogue=scripted)
    async with lifespan(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
