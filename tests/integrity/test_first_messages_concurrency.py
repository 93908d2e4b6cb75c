"""A new contact's first messages, arriving together, on SQLite and PostgreSQL: one
conversation, every message kept."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.support.portfolio import PORTFOLIO

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
N = 6


async def test_parallel_first_messages_make_one_conversation_and_keep_every_message(
        backend_client: httpx.AsyncClient) -> None:
    assert (await backend_client.post("/api/v1/portfolio", json=PORTFOLIO, headers=ADMIN)).status_code == 200
    texts = [f"mensagem {i}" for i in range(N)]
    responses = await asyncio.gather(*(
        backend_client.post("/channels/web/messages", headers=ADMIN,
                            json={"sender": "rita@acme.com.br", "text": text}) for text in texts))
    assert [r.status_code for r in responses] == [200] * N
    view = (await backend_client.get("/api/v1/debtors/acme", headers=ADMIN)).json()
    [conversation] = view["conversations"]
    inbound = [m["text"] for m in conversation["messages"] if m["direction"] == "in"]
    assert sorted(inbound) == sorted(texts)
    assert len([m for m in conversation["messages"] if m["direction"] == "out"]) == N
