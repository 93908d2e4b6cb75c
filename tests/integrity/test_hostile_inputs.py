"""Hostile request bodies get a 4xx that names the problem and does not echo the input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN
from tests.support.portfolio import PORTFOLIO

PAYMENT = '{"debt_external_id": "NF-9", "amount": %s, "paid_at": "2026-11-26T10:00:00-03:00"}'
MESSAGE = '{"sender": %s, "text": %s}'


@pytest.mark.parametrize(("path", "raw"), [
    ("/channels/web/messages", MESSAGE % ('"rita@acme.com.br"', '"\\ud800"')),
    ("/channels/web/messages", MESSAGE % ('"\\udfff"', '"oi"')),
    ("/channels/web/messages", MESSAGE % ('"rita@acme.com.br"', "NaN")),
    ("/channels/web/messages", MESSAGE % ("Infinity", '"oi"')),
    ("/channels/web/messages", MESSAGE % ('"rita@acme.com.br"', "1e309")),
    ("/api/v1/payments", PAYMENT % "NaN"),
    ("/api/v1/payments", PAYMENT % "Infinity"),
    ("/api/v1/payments", PAYMENT % "-Infinity"),
    ("/api/v1/payments", PAYMENT % "1e309"),
    ("/api/v1/payments", PAYMENT % '"\\ud800"'),
    ("/api/v1/payments", '{"debt_external_id": "\\ud800", "amount": "1.00", "paid_at": "\\udc00"}'),
    ("/api/v1/payments", "\"\\ud800\""),
    ("/api/v1/payments", "[NaN]"),
])
async def test_surrogates_and_non_finite_numbers_are_a_4xx(
        client: httpx.AsyncClient, admin: dict[str, str], path: str, raw: str) -> None:
    response = await client.post(path, content=raw.encode(),
                                 headers={**admin, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    body = response.json()
    assert "detail" in body
    assert "ud800" not in response.text and "udfff" not in response.text


@pytest.mark.parametrize("raw", [b"\xff\xfe{", b'{"sender": "a\xc3", "text": "x"}', b"{" * 100_000])
async def test_undecodable_or_deep_json_is_a_4xx(client: httpx.AsyncClient, admin: dict[str, str],
                                                  raw: bytes) -> None:
    response = await client.post("/channels/web/messages", content=raw,
                                 headers={**admin, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500


async def test_validation_errors_do_not_echo_the_input(client: httpx.AsyncClient,
                                                       admin: dict[str, str]) -> None:
    secret = "<script>alert(1)</script>" * 4
    response = await client.post("/api/v1/payments", headers=admin, json={
        "debt_external_id": "NF-9", "amount": secret, "paid_at": secret})
    assert response.status_code == 422
    assert "<script>" not in response.text
    fields = {e["loc"][-1] for e in response.json()["detail"]}
    assert {"amount", "paid_at"} <= fields


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b["debtors"][0]["debts"][0].update(description="x" * 501), "description"),
    (lambda b: b["debtors"][0]["debts"][0].update(external_id="x" * 65), "external_id"),
    (lambda b: b["debtors"][0].update(external_id="x" * 65), "external_id"),
    (lambda b: b["debtors"][0]["debts"][0].update(amount="10000000000.00"), "amount"),
    (lambda b: b["debtors"][0]["contacts"][0].update(name="x" * 201), "name"),
])
async def test_oversized_portfolio_fields_are_refused(client: httpx.AsyncClient, admin: dict[str, str],
                                                      change: Any, field: str) -> None:
    import copy

    body = copy.deepcopy(PORTFOLIO)
    change(body)
    response = await client.post("/api/v1/portfolio", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert any(field in [str(p) for p in e["loc"]] for e in response.json()["detail"])


async def test_chat_text_is_limited(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post("/channels/web/messages", headers=admin,
                                 json={"sender": "rita@acme.com.br", "text": "x" * 4097})
    assert response.status_code == 422
    assert len(response.content) < 2_000


async def test_huge_bodies_are_refused_before_parsing(client: httpx.AsyncClient,
                                                      admin: dict[str, str]) -> None:
    raw = b'{"sender": "rita@acme.com.br", "text": "' + b"x" * 3_000_000 + b'"}'
    response = await client.post("/channels/web/messages", content=raw,
                                 headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 413


async def test_nul_characters_never_reach_the_database(backend_client: httpx.AsyncClient) -> None:
    """PostgreSQL refuses NUL in text: a NUL in an id, a name or the URL is a 422, not a 500
    (found by the Schemathesis run on PostgreSQL). Chat text keeps dropping it instead."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    sender = await backend_client.post("/channels/web/messages", headers=admin,
                                       json={"sender": "rita\x00@acme.com.br", "text": "oi"})
    assert sender.status_code == 422
    for path in ("/api/v1/debtors/acme%00", "/api/v1/debtors/acme?creditor=demo%00"):
        assert (await backend_client.get(path, headers=admin)).status_code == 422
    body = {"creditor": "demo", "debtors": [{**PORTFOLIO["debtors"][0], "name": "Acme\x00"}]}
    assert (await backend_client.post("/api/v1/portfolio", json=body, headers=admin)).status_code == 422
    payment = await backend_client.post("/api/v1/payments", headers=admin, json={
        "debt_external_id": "NF-9", "amount": "1.00", "paid_at": "2026-11-26T10:00:00-03:00",
        "reference": "TED\x00"})
    assert payment.status_code == 422
    # Link issuers too (a NUL in the Telegram link's debtor id was a 500 on PostgreSQL).
    for path, link in (("/api/v1/telegram/link-tokens", {"debtor_external_id": "acme\x00",
                                                         "contact_name": "Rita"}),
                       ("/api/v1/telegram/link-tokens", {"debtor_external_id": "acme",
                                                         "contact_name": "Rita\x00"}),
                       ("/api/v1/portal/links", {"debtor_external_id": "acme\x00"}),
                       ("/api/v1/portal/links", {"debtor_external_id": "acme", "contact": "x\x00"})):
        assert (await backend_client.post(path, json=link, headers=admin)).status_code == 422, (path, link)
