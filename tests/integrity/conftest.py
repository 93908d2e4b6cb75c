"""An app on SQLite or on a fresh PostgreSQL database, for the integrity suites.

``backend_client`` is parametrized like the storage suites (``BACKENDS``): a SQLite file
under the test's tmp dir, or a database ``acordo_test_<random>`` made on the PostgreSQL
server and dropped afterwards (skipped with one line when no server listens).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.clock import FixedClock
from tests.conftest import NOW, ScriptedDialogue, make_settings
from tests.storage.conftest import BACKENDS, create_postgres_database, drop_postgres_database
from tests.support.lifespan import lifespan


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'acordo.db'}"
        return
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture
async def backend_client(tmp_path: Path, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(tmp_path, database_url=database_url)
    app = create_app(settings, clock=FixedClock(NOW), dialogue=ScriptedDialogue())
    async with lifespan(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http
