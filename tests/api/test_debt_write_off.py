"""`POST /api/v1/debts/{external_id}/write-off`: admin only, refusals that name the problem, the
debt out of the régua and the negotiation, a later payment still recorded."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.conversation import commands as cmd
from bot.storage import models as db
from tests.payments.conftest import ADMIN, Desk, desk  # noqa: F401  (fixture)

BODY = {"creditor": "demo", "reason": "falência decretada"}


async def write_off(app: Desk, debt: str, body: dict[str, Any] | None = None,
                    headers: dict[str, str] | None = None) -> Any:
    return await app.http.post(f"/api/v1/debts/{debt}/write-off", json=BODY if body is None else body,
                               headers=ADMIN if headers is None else headers)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}])
async def test_write_off_needs_the_admin_token(desk: Desk, headers: dict[str, str]) -> None:  # noqa: F811
    await desk.debtor()
    response = await write_off(desk, "NF-acme", headers=headers)
    assert response.status_code == 401
    assert (await desk.http.get("/api/v1/debtors/acme", headers=ADMIN)).json()["debts"][0]["status"] == "open"


async def test_refusals_name_the_problem(desk: Desk) -> None:  # noqa: F811
    await desk.debtor()
    unknown = await write_off(desk, "NF-nope")
    assert unknown.status_code == 404 and "NF-nope" in unknown.json()["detail"]
    creditor = await write_off(desk, "NF-acme", {"creditor": "ghost", "reason": "x"})
    assert creditor.status_code == 422 and "ghost" in str(creditor.json()["detail"])
    for body in ({"creditor": "demo"}, {"creditor": "demo", "reason": "  "}, {**BODY, "extra": 1}):
        response = await write_off(desk, "NF-acme", body)
        assert response.status_code == 422, body
    paid = await desk.debtor("paid-co", amount="500.00")
    assert paid
    await desk.pay(debt_external_id="NF-paid-co", amount="500.00", paid_at="2026-11-25T10:00:00-03:00")
    refused = await write_off(desk, "NF-paid-co")
    assert refused.status_code == 409 and "paid" in refused.json()["detail"]
    conversation = await desk.debtor("agreed-co")
    await desk.agree(conversation)
    in_agreement = await write_off(desk, "NF-agreed-co")
    assert in_agreement.status_code == 409 and "agreement" in in_agreement.json()["detail"]


async def test_a_written_off_debt_is_not_chased_and_a_later_payment_still_counts(desk: Desk) -> None:  # noqa: F811
    conversation = await desk.debtor()
    offer = await desk.say(conversation, cmd.OfferInstallments(text="3x"))
    assert offer.replies[0].template == "offer_installments"
    response = await write_off(desk, "NF-acme")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "written_off" and body["previous_status"] == "open"
    assert body["outstanding"] == "3000.00" and body["reason"] == "falência decretada"
    assert body["debtor_external_id"] == "acme" and body["creditor"] == "demo"
    again = await write_off(desk, "NF-acme")
    assert again.status_code == 409 and "written off already" in again.json()["detail"]
    view = (await desk.http.get("/api/v1/debtors/acme", headers=ADMIN)).json()
    assert view["debts"][0]["status"] == "written_off"
    # The bot no longer negotiates it: the pending offer was withdrawn, nothing is owed to it.
    accepted = await desk.say(conversation, cmd.AcceptOffer(text="sim"))
    assert "agreement_created" not in [r.template for r in accepted.replies]
    assert (await desk.say(conversation, cmd.OfferFullPayment())).replies[0].template == "no_open_debt"
    # The régua does not plan it either.
    preview = await desk.container.cadence.preview(date(2026, 11, 27), "demo")
    assert all(p.debt != "NF-acme" for p in preview.planned)
    assert all(s.debt != "NF-acme" for s in preview.skipped)
    async with desk.container.sessions() as session:
        [event] = list(await session.scalars(
            select(db.AuditEvent).where(db.AuditEvent.kind == "debt_written_off")))
        assert event.actor == "admin" and event.data is not None
        assert event.data["reason"] == "falência decretada" and event.data["outstanding"] == "3000.00"
        assert await session.scalar(select(db.Agreement)) is None
    # A payment that still arrives is recorded; paid in full, the debt is paid.
    partial = await desk.pay(debt_external_id="NF-acme", amount="1000.00",
                             paid_at="2026-11-27T10:00:00-03:00")
    assert partial.status_code == 200 and partial.json()["debt_status"] == "written_off"
    rest = await desk.pay(debt_external_id="NF-acme", amount="2000.00", paid_at="2026-11-28T10:00:00-03:00")
    assert rest.json()["debt_status"] == "paid"
    async with desk.container.sessions() as session:
        recorded = list(await session.scalars(
            select(db.AuditEvent).where(db.AuditEvent.kind == "payment_recorded")))
        assert [e.data and e.data.get("written_off") for e in recorded] == [True, True]


async def test_write_off_is_in_the_openapi(desk: Desk) -> None:  # noqa: F811
    schema = (await desk.http.get("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/debts/{external_id}/write-off"]["post"]
    assert {"200", "404", "409", "422"} <= set(operation["responses"])
