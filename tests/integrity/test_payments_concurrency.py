"""Payments under concurrency on SQLite and PostgreSQL: every one counts, a reference once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.support.portfolio import PORTFOLIO

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
N = 8


async def _pay(client: httpx.AsyncClient, amount: str, reference: str | None) -> httpx.Response:
    body = {"debt_external_id": "NF-9", "amount": amount, "paid_at": "2026-11-26T10:00:00-03:00"}
    if reference is not None:
        body["reference"] = reference
    return await client.post("/api/v1/payments", json=body, headers=ADMIN)


async def _debt(client: httpx.AsyncClient) -> dict[str, str]:
    view = (await client.get("/api/v1/debtors/acme", headers=ADMIN)).json()
    debt: dict[str, str] = view["debts"][0]
    return debt


async def test_parallel_payments_with_distinct_references_all_count(
        backend_client: httpx.AsyncClient) -> None:
    assert (await backend_client.post("/api/v1/portfolio", json=PORTFOLIO, headers=ADMIN)).status_code == 200
    before = Decimal((await _debt(backend_client))["balance"])
    responses = await asyncio.gather(*(_pay(backend_client, "25.00", f"bank-{i}") for i in range(N)))
    assert [r.status_code for r in responses] == [200] * N
    after = Decimal((await _debt(backend_client))["balance"])
    assert before - after == Decimal("25.00") * N


async def test_parallel_repeats_of_one_reference_answer_the_first_result(
        backend_client: httpx.AsyncClient) -> None:
    assert (await backend_client.post("/api/v1/portfolio", json=PORTFOLIO, headers=ADMIN)).status_code == 200
    before = Decimal((await _debt(backend_client))["balance"])
    responses = await asyncio.gather(*(_pay(backend_client, "25.00", "bank-same") for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    bodies = [r.json() for r in responses]
    assert sorted(b["duplicate"] for b in bodies) == [False] + [True] * 4
    assert {b["amount"] for b in bodies} == {"25.00"}
    after = Decimal((await _debt(backend_client))["balance"])
    assert before - after == Decimal("25.00")


async def test_a_reference_is_unique_per_creditor_across_debts(backend_client: httpx.AsyncClient) -> None:
    body = {**PORTFOLIO, "debtors": [{**PORTFOLIO["debtors"][0], "debts": [
        PORTFOLIO["debtors"][0]["debts"][0],
        {"external_id": "NF-10", "amount": "500.00", "currency": "BRL", "due_date": "2026-10-01"}]}]}
    assert (await backend_client.post("/api/v1/portfolio", json=body, headers=ADMIN)).status_code == 200
    balances = {d["external_id"]: d["balance"] for d in
                (await backend_client.get("/api/v1/debtors/acme", headers=ADMIN)).json()["debts"]}
    first = await _pay(backend_client, "25.00", "TED-1")
    other = await backend_client.post("/api/v1/payments", headers=ADMIN, json={
        "debt_external_id": "NF-10", "amount": "40.00", "paid_at": "2026-11-26T11:00:00-03:00",
        "reference": "TED-1"})
    assert first.status_code == other.status_code == 200
    assert other.json()["duplicate"] is True
    assert (other.json()["debt_external_id"], other.json()["amount"]) == ("NF-9", "25.00")
    view = (await backend_client.get("/api/v1/debtors/acme", headers=ADMIN)).json()
    assert {d["external_id"]: d["balance"] for d in view["debts"]}["NF-10"] == balances["NF-10"]
