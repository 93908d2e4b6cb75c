"""A one-debtor portfolio (Acme, one debt NF-9 of R$ 1.000,00) and loading it through the admin API."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from bot.schemas import PORTFOLIO_EXAMPLE

# The schema's own example of a portfolio (a copy: tests may not change the original).
PORTFOLIO: dict[str, Any] = copy.deepcopy(PORTFOLIO_EXAMPLE)


async def load(client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any] | None = None
               ) -> httpx.Response:
    return await client.post("/api/v1/portfolio", json=body or PORTFOLIO, headers=admin)
