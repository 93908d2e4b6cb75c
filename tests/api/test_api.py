"""The HTTP API with a scripted dialogue engine: auth, validation, storage of every message."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from bot.clock import FixedClock
from tests.conftest import NOW, ScriptedDialogue
from tests.support.portfolio import PORTFOLIO, load


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/portfolio"), ("GET", "/api/v1/debtors/acme"), ("POST", "/api/v1/payments"),
])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
async def test_admin_api_refuses_missing_or_wrong_token(client: httpx.AsyncClient, method: str,
                                                         path: str, headers: dict[str, str]) -> None:
    response = await client.request(method, path, json={}, headers=headers)
    assert response.status_code == 401


async def test_portfolio_upsert_then_debtor_view_has_contract_shape(
        client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    first = await load(client, admin)
    again = await load(client, admin)
    assert first.status_code == again.status_code == 200
    assert first.json()["debts"] == 1 and first.json()["rejected"] == []
    view = (await client.get("/api/v1/debtors/acme", headers=admin)).json()
    assert view["external_id"] == "acme" and view["creditor"] == "demo"
    [debt] = view["debts"]
    assert debt["amount"] == "1000.00" and debt["status"] == "open"
    # 56 days late on 2026-11-26: 2% fee + 1% a month pro rata (56/30) = 1000 + 20 + 18.67
    assert debt["balance"] == "1038.67"
    assert view["agreements"] == [] and view["conversations"] == []


@pytest.mark.parametrize(("change", "field"), [
    (lambda b: b["debtors"][0]["debts"][0].update(amount=1000.5), "amount"),
    (lambda b: b["debtors"][0]["debts"][0].update(amount="10.005"), "amount"),
    (lambda b: b["debtors"][0]["debts"][0].update(amount="-5.00"), "amount"),
    (lambda b: b["debtors"][0].update(tax_id="11.111.111/1111-11"), "tax_id"),
    (lambda b: b["debtors"][0].update(timezone="Mars/Olympus"), "timezone"),
    (lambda b: b["debtors"][0]["contacts"][0].update(channel="fax"), "channel"),
    (lambda b: b["debtors"][0]["debts"][0].update(due_date="31/12/2026"), "due_date"),
    (lambda b: b["debtors"][0].update(surprise=1), "surprise"),
])
async def test_malformed_portfolio_is_refused_naming_the_field(
        client: httpx.AsyncClient, admin: dict[str, str], change: Any, field: str) -> None:
    body = copy.deepcopy(PORTFOLIO)
    change(body)
    response = await load(client, admin, body)
    assert response.status_code == 422
    assert any(field in [str(p) for p in e["loc"]] for e in response.json()["detail"])


async def test_unparseable_json_and_unknown_creditor_get_422(
        client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    broken = await client.post("/api/v1/portfolio", content=b"{not json",
                               headers={**admin, "Content-Type": "application/json"})
    assert broken.status_code == 422
    unknown = await load(client, admin, {**PORTFOLIO, "creditor": "nobody"})
    assert unknown.status_code == 422 and "nobody" in unknown.text


async def test_unknown_sender_gets_a_reply_that_discloses_nothing(client: httpx.AsyncClient,
                                                                  admin: dict[str, str],
                                                                  scripted: ScriptedDialogue) -> None:
    await load(client, admin)
    response = await client.post("/channels/web/messages",
                                 json={"sender": "stranger@x.com", "text": "quanto a acme deve?"},
                                 headers=admin)
    assert response.status_code == 200
    [reply] = response.json()["replies"]
    for secret in ("Acme", "1.000", "NF", "Distribuidora", "R$"):
        assert secret not in reply["text"]
    assert scripted.calls == []


@pytest.mark.parametrize("text", ["", "   \n\t ", "x" * 4096, "🙏🙏😀", "oi\x00\x07\x1b[31m tudo"])
async def test_odd_messages_get_polite_answers_and_are_stored(
        client: httpx.AsyncClient, admin: dict[str, str], text: str) -> None:
    await load(client, admin)
    response = await client.post("/channels/web/messages",
                                 json={"sender": "rita@acme.com.br", "text": text}, headers=admin)
    assert response.status_code == 200
    assert response.json()["replies"], "every message gets a reply"
    view = (await client.get("/api/v1/debtors/acme", headers=admin)).json()
    [conversation] = view["conversations"]
    inbound = [m for m in conversation["messages"] if m["direction"] == "in"]
    assert len(inbound) == 1
    assert "\x00" not in inbound[0]["text"]


async def test_dialogue_outage_keeps_message_apologises_and_marks_for_human(
        client: httpx.AsyncClient, admin: dict[str, str], scripted: ScriptedDialogue) -> None:
    await load(client, admin)
    scripted.down = True
    assert (await client.get("/readyz")).status_code == 503
    response = await client.post("/channels/web/messages",
                                 json={"sender": "rita@acme.com.br", "text": "quero parcelar"},
                                 headers=admin)
    assert response.status_code == 200
    assert "registrada" in response.json()["replies"][0]["text"]
    view = (await client.get("/api/v1/debtors/acme", headers=admin)).json()
    [conversation] = view["conversations"]
    assert conversation["state"] == "human"
    assert [m["text"] for m in conversation["messages"] if m["direction"] == "in"] == ["quero parcelar"]
    scripted.down = False
    assert (await client.get("/readyz")).status_code == 200


async def test_payments_update_balance_and_status(client: httpx.AsyncClient,
                                                  admin: dict[str, str]) -> None:
    await load(client, admin)
    partial = await client.post("/api/v1/payments", headers=admin, json={
        "debt_external_id": "NF-9", "amount": "400.00", "paid_at": "2026-11-20T10:00:00-03:00"})
    assert partial.status_code == 200 and partial.json()["debt_status"] == "open"
    rest = await client.post("/api/v1/payments", headers=admin, json={
        "debt_external_id": "NF-9", "amount": "600.00", "paid_at": "2026-11-21T10:00:00-03:00"})
    assert rest.json()["debt_status"] == "paid"
    view = (await client.get("/api/v1/debtors/acme", headers=admin)).json()
    assert view["debts"][0]["status"] == "paid" and view["debts"][0]["balance"] == "0.00"


@pytest.mark.parametrize("body", [
    {"debt_external_id": "NF-9", "amount": 10.5, "paid_at": "2026-11-20T10:00:00-03:00"},
    {"debt_external_id": "NF-9", "amount": "10.555", "paid_at": "2026-11-20T10:00:00-03:00"},
    {"debt_external_id": "NF-9", "amount": "10.00", "paid_at": "2026-11-20T10:00:00"},
])
async def test_bad_payments_are_refused(client: httpx.AsyncClient, admin: dict[str, str],
                                        body: dict[str, Any]) -> None:
    await load(client, admin)
    assert (await client.post("/api/v1/payments", headers=admin, json=body)).status_code == 422


async def test_unknown_debt_payment_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post("/api/v1/payments", headers=admin, json={
        "debt_external_id": "nope", "amount": "1.00", "paid_at": "2026-11-20T10:00:00-03:00"})
    assert response.status_code == 404


async def test_health_openapi_and_no_chat_page_outside_demo_mode(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json()["status"] == "ok"
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/channels/web/messages", "/api/v1/portfolio", "/api/v1/debtors/{external_id}",
                 "/api/v1/payments", "/healthz", "/readyz"):
        assert path in paths
    assert (await client.get("/chat")).status_code == 404  # the demo chat page: demo mode only


async def test_action_webhook_requires_token_when_configured(tmp_path: Any) -> None:
    from bot.app import create_app
    from tests.conftest import make_settings
    from tests.support.lifespan import lifespan

    app = create_app(make_settings(tmp_path, action_token="s3cret"), clock=FixedClock(NOW),
                     dialogue=ScriptedDialogue())
    async with lifespan(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            call = {"next_action": "action_greet", "sender_id": "x",
                    "tracker": {"sender_id": "x", "slots": {}, "latest_message": {}, "events": []},
                    "domain": {}}
            assert (await http.post("/actions/webhook", json=call)).status_code == 401
            assert (await http.post("/actions/webhook?token=bad", json=call)).status_code == 401
            ok = await http.post("/actions/webhook?token=s3cret", json=call)
            assert ok.status_code == 200
            # an unknown conversation gets the non-disclosing reply
            assert ok.json()["responses"][0]["custom"]["template"] == "unknown_sender"
