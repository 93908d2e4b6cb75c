"""The payment claims at the agent console: listed in the queue, shown with their details and
receipts, confirmed or rejected through forms that need a signed-in agent and the CSRF token."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import unquote_plus

from sqlalchemy import select

from bot.storage import models as db
from bot.storage.claim_models import PaymentClaim
from tests.support.agent_console import open_claim
from tests.web.conftest import Site, csrf_of


async def stored(site: Site, claim_id: int) -> PaymentClaim:
    async with site.container.sessions() as session:
        claim = await session.get(PaymentClaim, claim_id)
        assert claim is not None
        return claim


async def test_the_queue_and_the_claim_page_show_the_claim(site: Site) -> None:
    claim_id = await open_claim(site)
    async with site.client() as anonymous:
        assert (await anonymous.get(f"/agent/claims/{claim_id}")).status_code == 303
    async with site.signed_in("alice") as http:
        queue = await http.get("/agent")
        assert f'/agent/claims/{claim_id}"' in queue.text and "TED 4471" in queue.text
        page = await http.get(f"/agent/claims/{claim_id}")
        assert "R$2,500.00" in page.text and "Itaú" in page.text and "já paguei, TED 4471" in page.text
        receipt = await http.get(f"/agent/claims/{claim_id}/attachments/1")
        assert (receipt.status_code, receipt.content, receipt.headers["content-type"]) == (
            200, b"PNG", "image/png")
        assert (await http.get(f"/agent/claims/{claim_id}/attachments/99")).status_code == 404
        assert (await http.get("/agent/claims/999")).status_code == 404


async def test_confirm_needs_the_csrf_token_and_records_the_payment(site: Site) -> None:
    claim_id = await open_claim(site)
    async with site.signed_in("alice") as http:
        refused = await http.post(f"/agent/claims/{claim_id}/confirm", data={"amount": "2500"})
        assert refused.status_code == 403 and (await stored(site, claim_id)).status == "pending"
        page = await http.get(f"/agent/claims/{claim_id}")
        bad = await http.post(f"/agent/claims/{claim_id}/confirm",
                              data={"csrf_token": csrf_of(page.text), "amount": "dois mil"})
        assert "error=" in bad.headers["location"] and (await stored(site, claim_id)).status == "pending"
        done = await http.post(f"/agent/claims/{claim_id}/confirm",
                               data={"csrf_token": csrf_of(page.text), "amount": "2.400,00"})
        assert done.status_code == 303 and "msg=" in done.headers["location"]
        again = await http.post(f"/agent/claims/{claim_id}/confirm",
                                data={"csrf_token": csrf_of(page.text)})
        assert "confirmed already" in unquote_plus(again.headers["location"])
    claim = await stored(site, claim_id)
    assert (claim.status, claim.resolved_by, claim.payment_amount) == (
        "confirmed", "agent:alice", Decimal("2400.00"))
    async with site.container.sessions() as session:
        payments = list(await session.scalars(select(db.Payment)))
        kinds = list(await session.scalars(select(db.AuditEvent.kind)))
    assert [(p.amount, p.reference) for p in payments] == [(Decimal("2400.00"), f"claim-{claim_id}")]
    assert "payment_claim_confirmed" in kinds


async def test_reject_tells_the_debtor_and_needs_a_reason(site: Site) -> None:
    claim_id = await open_claim(site, amount=None)
    async with site.signed_in("bruno") as http:
        page = await http.get(f"/agent/claims/{claim_id}")
        empty = await http.post(f"/agent/claims/{claim_id}/reject",
                                data={"csrf_token": csrf_of(page.text), "reason": " "})
        assert "reason" in unquote_plus(empty.headers["location"])
        done = await http.post(f"/agent/claims/{claim_id}/reject",
                               data={"csrf_token": csrf_of(page.text),
                                     "reason": "não encontramos a TED no extrato"})
        assert "msg=" in done.headers["location"]
        shown = await http.get(f"/agent/claims/{claim_id}")
        assert "Rejected by agent:bruno" in shown.text and 'id="reject-form"' not in shown.text
    async with site.container.sessions() as session:
        told = await session.scalar(select(db.Message.text).where(
            db.Message.template == "payment_claim_rejected"))
    assert told is not None and "não encontramos a TED no extrato." in told
    assert (await stored(site, claim_id)).status == "rejected"
