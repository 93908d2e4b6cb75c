"""From agreement to cash with a controlled clock: instructions in the chat, payments settling
installments oldest first, promises and installments followed up day by day."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.conversation import commands as cmd
from bot.message_parts import MediaRef
from bot.payments import brcode
from bot.services.payment_pictures import stored_picture
from bot.storage import models as db
from bot.storage.payment_models import PaymentCharge, Promise
from tests.conftest import NOW
from tests.payments.conftest import Desk
from tests.support.qr import decode_png


def noon(day: date) -> datetime:
    return datetime.combine(day, time(15, 0), tzinfo=UTC)  # 12:00 in São Paulo


async def installments(desk: Desk) -> list[db.Installment]:
    async with desk.container.sessions() as session:
        return list(await session.scalars(select(db.Installment).order_by(db.Installment.number)))


async def queued(desk: Desk, conversation: str) -> list[db.Message]:
    async with desk.container.sessions() as session:
        rows = await session.scalars(
            select(db.Message).join(db.Conversation).where(db.Conversation.public_id == conversation,
                                                           db.Message.status == "queued")
            .order_by(db.Message.id))
        return list(rows)


async def agreement_status(desk: Desk) -> tuple[str, list[str]]:
    async with desk.container.sessions() as session:
        agreement = await session.scalar(select(db.Agreement))
        debts = list(await session.scalars(select(db.Debt.status)))
        assert agreement is not None
        return agreement.status, debts


async def test_agreement_sends_the_first_pix_and_each_other_installment_on_request(desk: Desk) -> None:
    conversation = await desk.debtor()
    outcome = await desk.agree(conversation)
    assert [r.template for r in outcome.replies] == ["agreement_created", "payment_instructions"]
    [first] = outcome.replies[1].variables["charges"]  # one payment at a time
    assert outcome.replies[1].variables["count"] == 3
    plan = await installments(desk)
    assert first["number"] == 1 and len(plan) == 3
    charges = [first]
    for number in (2, 3):
        asking = cmd.ExplainPaymentMethod(text=f"manda o pix da {number}ª parcela")
        asked = await desk.say(conversation, asking)
        [reply] = asked.replies
        [charge] = reply.variables["charges"]
        assert charge["number"] == number
        assert reply.media is not None and reply.media.ref == charge["txid"]  # its own QR code
        charges.append(charge)
    for charge, item in zip(charges, plan, strict=True):
        pix = brcode.parse(charge["payload"])
        assert pix.amount == item.amount == charge["amount"] and pix.txid == charge["txid"]
        assert pix.key == "11222333000181" and pix.city == "SAO PAULO"
        assert charge["qr_url"] == f"https://acordo.example/pay/{charge['txid']}.png"
    assert len({c["txid"] for c in charges}) == 3
    # The rendered web reply carries the copia e cola text; the QR image decodes to it.
    text = desk.container.renderer.render("payment_instructions", "pt-BR", dict(outcome.replies[1].variables))
    assert charges[0]["payload"] in text and "PIX copia e cola" in text
    assert charges[1]["payload"] not in text
    png = await desk.http.get(f"/pay/{charges[0]['txid']}.png")
    assert png.status_code == 200 and decode_png(png.content) == [charges[0]["payload"]]
    assert (await desk.http.get("/pay/NOPE.png")).status_code == 404
    again = await desk.say(conversation, cmd.ExplainPaymentMethod(text="manda o pix"))
    assert [c["txid"] for c in again.replies[0].variables["charges"]] == [charges[0]["txid"]]


async def test_partial_payments_go_to_the_oldest_installment_first(desk: Desk) -> None:
    conversation = await desk.debtor()
    await desk.agree(conversation)
    first, second, third = await installments(desk)
    half = (second.amount / 2).quantize(Decimal("0.01"))
    paid = first.amount + half
    response = await desk.pay(debt_external_id="NF-acme", amount=f"{paid:.2f}",
                              paid_at="2026-11-27T10:00:00-03:00", reference="bank-1")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["installments"] == [{"number": 1, "amount": f"{first.amount:.2f}"},
                                    {"number": 2, "amount": f"{half:.2f}"}]
    assert body["agreement_status"] == "active"
    after = await installments(desk)
    assert [i.status for i in after] == ["paid", "open", "open"]
    assert after[1].paid_amount == half
    # The rest, matched by the txid of installment 2's (new) charge and then of installment 3:
    # asking how to pay sends the next open installment's each time.
    for number, owed in ((2, second.amount - half), (3, third.amount)):
        replies = (await desk.say(conversation, cmd.ExplainPaymentMethod())).replies
        [charge] = replies[0].variables["charges"]
        assert (charge["number"], charge["amount"]) == (number, owed)
        response = await desk.pay(txid=charge["txid"], amount=f"{charge['amount']:.2f}",
                                  paid_at="2026-11-28T10:00:00-03:00")
        assert response.status_code == 200, response.text
    assert response.json()["agreement_status"] == "kept"
    assert await agreement_status(desk) == ("kept", ["paid"])
    duplicate = await desk.pay(txid=charge["txid"], amount=f"{charge['amount']:.2f}",
                               paid_at="2026-11-28T10:00:00-03:00")
    assert duplicate.json()["duplicate"] is True
    unknown = await desk.pay(txid="ACUNKNOWN", amount="10.00", paid_at="2026-11-28T10:00:00-03:00")
    assert unknown.status_code == 404


async def test_installments_are_reminded_followed_up_and_the_agreement_breaks_after_grace(desk: Desk) -> None:
    conversation = await desk.debtor()
    await desk.agree(conversation)
    first = (await installments(desk))[0]
    due = first.due_date  # 2026-11-29, a Sunday: reminded on Saturday (open until 14:00)
    followup = desk.container.followup

    async def run(day: date) -> list[str]:
        desk.at(noon(day))
        report = await followup.run(day)
        return [d["action"] for d in report.decisions]

    assert await run(due - timedelta(days=2)) == []
    dry = await followup.run(due - timedelta(days=1), dry_run=True)
    assert [d["action"] for d in dry.decisions] == ["RemindInstallment"]
    assert not await queued(desk, conversation)
    assert await run(due - timedelta(days=1)) == ["RemindInstallment"]
    assert await run(due - timedelta(days=1)) == []  # a re-run sends nothing twice
    messages = await queued(desk, conversation)
    assert [m.template for m in messages] == ["installment_reminder", "payment_instructions"]
    assert brcode.parse(messages[1].text.split("\n")[3]).amount == first.amount
    assert await run(due + timedelta(days=1)) == ["FollowUpInstallment"]
    assert [m.template for m in await queued(desk, conversation)][-2:] == [
        "installment_overdue", "payment_instructions"]
    # Partially paid: still late. On the last grace day nothing breaks; the day after, it does.
    response = await desk.pay(debt_external_id="NF-acme", amount="100.00",
                              paid_at="2026-12-01T10:00:00-03:00")
    assert response.json()["installments"] == [{"number": 1, "amount": "100.00"}]
    assert await run(due + timedelta(days=5)) == []
    assert await run(due + timedelta(days=6)) == ["BreakAgreement"]
    status, debts = await agreement_status(desk)
    assert status == "broken" and debts == ["open"]
    last = (await queued(desk, conversation))[-1]
    assert last.template == "agreement_broken" and [b["payload"] for b in last.buttons or []] == [
        "/ask_debt_details", "/pay_in_full", "/request_installments"]
    async with desk.container.sessions() as session:
        conv = await session.scalar(select(db.Conversation).where(db.Conversation.public_id == conversation))
        assert conv is not None and conv.negotiation is None  # a new agreement may be negotiated
        kinds = [e.kind for e in await session.scalars(select(db.AuditEvent).order_by(db.AuditEvent.id))]
        assert "agreement_broken" in kinds and "cadence_resumed" in kinds
        debt = await session.scalar(select(db.Debt))
        assert debt is not None and debt.paid_amount == Decimal("100.00")
    assert await run(due + timedelta(days=7)) == []
    renegotiation = await desk.agree(conversation, installments=2)
    assert renegotiation.replies[0].template == "agreement_created"


async def test_promise_recorded_confirmed_reminded_and_kept(desk: Desk) -> None:
    conversation = await desk.debtor()
    outcome = await desk.say(conversation, cmd.RecordPromise(text="vou pagar 500 na segunda"))
    assert [r.template for r in outcome.replies] == ["promise_recorded", "payment_instructions"]
    monday = date(2026, 11, 30)
    assert outcome.replies[0].variables["date"] == monday
    [charge] = outcome.replies[1].variables["charges"]
    assert charge["amount"] == Decimal("500.00")
    assert brcode.parse(charge["payload"]).amount == Decimal("500.00")
    async with desk.container.sessions() as session:
        [promise] = list(await session.scalars(select(Promise)))
        assert (promise.promised_date, promise.amount, promise.status) == (
            monday, Decimal("500.00"), "pending")
    desk.at(noon(date(2026, 11, 27)))
    assert [d["action"] for d in (await desk.container.followup.run(date(2026, 11, 27))).decisions] == []
    saturday = date(2026, 11, 28)  # Sunday is closed: Saturday is the last contact day before Monday
    report = await desk.container.followup.run(saturday)
    assert [d["action"] for d in report.decisions] == ["RemindPromise"]
    templates = [m.template for m in await queued(desk, conversation)]
    assert templates == ["promise_reminder", "payment_instructions"]
    response = await desk.pay(txid=charge["txid"], amount="500.00", paid_at="2026-11-30T09:00:00-03:00")
    assert response.status_code == 200
    async with desk.container.sessions() as session:
        [promise] = list(await session.scalars(select(Promise)))
        assert promise.status == "kept"


async def test_broken_promise_is_recorded_after_the_grace_days(desk: Desk) -> None:
    conversation = await desk.debtor()
    await desk.say(conversation, cmd.RecordPromise(text="pago na segunda"))
    monday = date(2026, 11, 30)

    async def run(day: date) -> list[str]:
        desk.at(noon(day))
        return [d["action"] for d in (await desk.container.followup.run(day)).decisions]

    assert await run(monday + timedelta(days=2)) == []  # promise_grace_days: 2
    await desk.pay(debt_external_id="NF-acme", amount="100.00", paid_at="2026-12-02T10:00:00-03:00")
    assert await run(monday + timedelta(days=3)) == ["BreakPromise"]  # 100 does not cover the balance
    async with desk.container.sessions() as session:
        [promise] = list(await session.scalars(select(Promise)))
        assert promise.status == "broken" and promise.amount is None
        kinds = [e.kind for e in await session.scalars(select(db.AuditEvent))]
        assert "promise_broken" in kinds and "cadence_resumed" in kinds


async def test_provider_webhook_settles_by_txid(fake_desk: Desk) -> None:
    desk = fake_desk
    conversation = await desk.debtor()
    outcome = await desk.agree(conversation, installments=2)
    charges: list[dict[str, Any]] = outcome.replies[1].variables["charges"]
    assert [c["method"] for c in charges] == ["link"]  # the first installment only
    body = json.dumps({"payments": [{"txid": charges[0]["txid"], "amount": str(charges[0]["amount"]),
                                     "paid_at": "2026-11-27T10:00:00-03:00", "id": "psp-1"}]}).encode()
    provider = desk.container.payments.providers()[0]
    refused = await desk.http.post("/payments/webhook/fake", content=body, headers={"X-Signature": "bad"})
    assert refused.status_code == 401
    sign = provider.sign(body)  # type: ignore[attr-defined]
    response = await desk.http.post("/payments/webhook/fake", content=body, headers={"X-Signature": sign})
    assert response.status_code == 200, response.text
    assert response.json()[0]["installments"][0]["number"] == 1
    async with desk.container.sessions() as session:
        charge = await session.scalar(select(PaymentCharge).where(PaymentCharge.txid == charges[0]["txid"]))
        assert charge is not None and charge.status == "paid"
    assert NOW.tzinfo is not None


@pytest.mark.parametrize(("amount", "paid_at"), [
    ("NaN", "2026-11-27T10:00:00-03:00"),
    ("sNaN", "2026-11-27T10:00:00-03:00"),
    ("99999999999999.00", "2026-11-27T10:00:00-03:00"),
    ("10.00", "0001-01-01T00:00:00-03:00"),
])
async def test_provider_webhook_with_absurd_values_is_a_4xx(fake_desk: Desk, amount: str,
                                                            paid_at: str) -> None:
    body = json.dumps({"payments": [{"txid": "AC00", "amount": amount, "paid_at": paid_at}]}).encode()
    provider = fake_desk.container.payments.providers()[0]
    response = await fake_desk.http.post("/payments/webhook/fake", content=body,
                                         headers={"X-Signature": provider.sign(body)})  # type: ignore[attr-defined]
    assert 400 <= response.status_code < 500, response.text


async def test_each_installments_reminder_carries_its_own_code_and_picture(desk: Desk) -> None:
    conversation = await desk.debtor()
    await desk.agree(conversation)
    first, second, _ = await installments(desk)
    paid = await desk.pay(debt_external_id="NF-acme", amount=f"{first.amount:.2f}",
                          paid_at="2026-11-27T10:00:00-03:00", reference="bank-1")
    assert paid.status_code == 200, paid.text
    followup = desk.container.followup
    for day in (second.due_date - timedelta(days=n) for n in (3, 2, 1)):
        desk.at(noon(day))
        await followup.run(day)
    reminders = [m for m in await queued(desk, conversation) if m.template == "payment_instructions"]
    [message] = reminders  # the second installment's reminder, once
    [charge] = (message.template_vars or {})["charges"]
    assert charge["number"] == 2
    assert "2ª parcela (de 3)" in message.text
    assert brcode.parse(charge["payload"]).amount == second.amount
    assert stored_picture(message.template, message.template_vars) == MediaRef("pix_qr", charge["txid"])
