"""`GET /metrics` needs `Authorization: Bearer` with ACORDO_METRICS_TOKEN or the admin token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_app
from bot.clock import FixedClock
from tests.conftest import ADMIN_TOKEN, NOW, ScriptedDialogue, make_settings
from tests.support.lifespan import lifespan

METRICS_TOKEN = "prometheus-scrape-token"


async def _client(tmp_path: Path, **settings: object) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(tmp_path, **settings), clock=FixedClock(NOW), dialogue=ScriptedDialogue())
    async with lifespan(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
async def scraped(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for http in _client(tmp_path, metrics_token=METRICS_TOKEN):
        yield http


@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {METRICS_TOKEN}"},
    {"Authorization": f"Bearer {METRICS_TOKEN}x"}, {"Authorization": "Bearer "},
])
async def test_metrics_refuse_a_missing_or_wrong_token(scraped: httpx.AsyncClient,
                                                       headers: dict[str, str]) -> None:
    response = await scraped.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "acordo_" not in response.text


@pytest.mark.parametrize("token", [METRICS_TOKEN, ADMIN_TOKEN])
async def test_metrics_accept_the_metrics_token_and_the_admin_token(scraped: httpx.AsyncClient,
                                                                    token: str) -> None:
    response = await scraped.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "acordo_handoffs_waiting" in response.text


async def test_without_a_metrics_token_the_admin_token_still_works(tmp_path: Path) -> None:
    async for http in _client(tmp_path):
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        assert (await http.get("/metrics", headers=admin)).status_code == 200
        assert (await http.get("/metrics", headers={"Authorization": "Bearer "})).status_code == 401


async def test_with_no_token_configured_every_scrape_is_refused(tmp_path: Path) -> None:
    async for http in _client(tmp_path, admin_token=None):
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"Authorization": "Bearer "})).status_code == 401
