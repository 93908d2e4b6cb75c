"""Driving the agent console's forms in the web suites."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.conftest import csrf_of

ADDRESS = "ana@padaria.example"


async def post(http: httpx.AsyncClient, public_id: str, action: str, **data: Any) -> httpx.Response:
    page = await http.get(f"/agent/c/{public_id}")
    response = await http.post(f"/agent/c/{public_id}/{action}",
                               data={"csrf_token": csrf_of(page.text), **data})
    assert response.status_code == 303, response.text
    return response
