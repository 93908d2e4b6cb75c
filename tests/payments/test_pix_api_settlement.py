"""From an agreement to settled installments over the API Pix emulator: charges issued once,
webhooks (duplicated, lost, forged) and the reconciliation sweep, through the one settlement
path (``POST /api/v1/payments`` semantics, ``reference`` = ``endToEndId``)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from datetime import timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.cli.app import app
from bot.conversation import commands as cmd
from bot.devtools.emulators.certificates import PKIFiles
from bot.devtools.emulators.observed import Faults
from bot.services.pix_reconciliation import sweep, sweep_every
from bot.storage import models as db
from bot.storage.payment_models import PaymentCharge
from tests.conftest import NOW
from tests.payments.conftest import PixDesk
from tests.support.cli import ROOT
from tests.support.pix_psp import WEBHOOK_SECRET, pix_settings


async def payments(desk: PixDesk) -> list[db.Payment]:
    async with desk.container.sessions() as session:
        return list(await session.scalars(select(db.Payment).order_by(db.Payment.id)))


async def plan(desk: PixDesk) -> list[db.Installment]:
    async with desk.container.sessions() as session:
        return list(await session.scalars(select(db.Installment).order_by(db.Installment.number)))


async def stored_charges(desk: PixDesk) -> int:
    async with desk.container.sessions() as session:
        return int(await session.scalar(select(func.count(PaymentCharge.id))) or 0)


async def agreed(desk: PixDesk, installments: int = 3) -> str:
    conversation = await desk.debtor()
    outcome = await desk.agree(conversation, installments)
    [charge] = outcome.replies[1].variables["charges"]
    return str(charge["txid"])


async def test_an_installment_is_charged_once_and_settled_by_its_pix(pix_desk: PixDesk) -> None:
    desk = pix_desk
    txid = await agreed(desk)
    assert 26 <= len(txid) <= 35 and txid.isalnum()
    charge = desk.psp.charges[txid]
    assert charge["_kind"] == "cobv" and charge["devedor"]["cnpj"] == "52601815908369"
    first = (await plan(desk))[0]
    assert charge["valor"]["original"] == f"{first.amount:.2f}"
    assert charge["calendario"]["dataDeVencimento"] == first.due_date.isoformat()
    pix = desk.psp.pay(txid)
    await desk.psp.settled()
    assert desk.psp.callbacks == [(f"https://acordo.example/payments/pix/{WEBHOOK_SECRET}/pix", 200)]
    [payment] = await payments(desk)
    assert payment.reference == pix["endToEndId"] and payment.amount == first.amount
    assert [i.status for i in await plan(desk)] == ["paid", "open", "open"]


async def test_a_single_payment_agreement_is_a_cob(pix_desk: PixDesk) -> None:
    conversation = await pix_desk.debtor()
    await pix_desk.say(conversation, cmd.OfferFullPayment(text="à vista"))
    outcome = await pix_desk.say(conversation, cmd.AcceptOffer(text="sim"))
    [charge] = outcome.replies[1].variables["charges"]
    assert pix_desk.psp.charges[charge["txid"]]["_kind"] == "cob"


async def test_a_timeout_while_issuing_creates_nothing_twice(pix_desk: PixDesk) -> None:
    desk = pix_desk
    await desk.provider.token()
    desk.psp.faults = Faults(timeout_delay=5.0)
    desk.psp.scripted.extend(["timeout"] * 3)  # the PSP makes the charge; we never hear back
    conversation = await desk.debtor()
    outcome = await desk.agree(conversation)
    assert "payment_instructions" not in [r.template for r in outcome.replies]  # not this time
    assert len(desk.psp.charges) == 1 and await stored_charges(desk) == 0
    asked = await desk.say(conversation, cmd.ExplainPaymentMethod(text="manda o pix"))
    [charge] = asked.replies[0].variables["charges"]
    assert list(desk.psp.charges) == [charge["txid"]] and await stored_charges(desk) == 1
    again = await desk.say(conversation, cmd.ExplainPaymentMethod(text="manda o pix"))
    assert again.replies[0].variables["charges"][0]["txid"] == charge["txid"]
    assert len(desk.psp.charges) == 1 and await stored_charges(desk) == 1


@pytest.mark.psp(webhook_faults={"rate_duplicated": 1.0})
async def test_a_duplicated_webhook_records_one_payment(pix_desk: PixDesk) -> None:
    txid = await agreed(pix_desk)
    pix_desk.psp.pay(txid)
    await pix_desk.psp.settled()
    assert [status for _, status in pix_desk.psp.callbacks] == [200, 200]
    assert len(await payments(pix_desk)) == 1
    assert [i.status for i in await plan(pix_desk)] == ["paid", "open", "open"]


@pytest.mark.psp(webhook_faults={"rate_lost": 1.0})
async def test_a_lost_webhook_is_settled_by_the_sweep_once(pix_desk: PixDesk) -> None:
    txid = await agreed(pix_desk)
    pix = pix_desk.psp.pay(txid)
    await pix_desk.psp.settled()
    assert pix_desk.psp.callbacks == [] and pix_desk.psp.lost == [pix["endToEndId"]]
    assert await payments(pix_desk) == []
    portfolio, provider = pix_desk.container.portfolio, pix_desk.provider
    tally = await sweep(portfolio, provider, NOW - timedelta(hours=1), NOW + timedelta(minutes=1))
    assert (tally.settled, tally.duplicates, tally.unknown) == (1, 0, 0)
    again = await sweep(portfolio, provider, NOW - timedelta(hours=1), NOW + timedelta(minutes=1))
    assert (again.settled, again.duplicates) == (0, 1)
    [payment] = await payments(pix_desk)
    assert payment.reference == pix["endToEndId"]
    assert (await plan(pix_desk))[0].status == "paid"


async def test_a_pix_larger_than_the_installment_follows_the_allocation_rules(pix_desk: PixDesk) -> None:
    txid = await agreed(pix_desk)
    first, second, _ = await plan(pix_desk)
    pix_desk.psp.pay(txid, first.amount + Decimal("10.00"))
    await pix_desk.psp.settled()
    first, second, _ = await plan(pix_desk)
    assert first.status == "paid" and second.paid_amount == Decimal("10.00")


async def test_the_webhook_needs_its_secret_and_a_valid_body(pix_desk: PixDesk) -> None:
    txid = await agreed(pix_desk)
    body = json.dumps({"pix": [{"endToEndId": "E12345678202611261300abcdef12345", "txid": txid,
                                "valor": "10.00", "horario": "2026-11-26T13:00:00Z"}]}).encode()
    wrong = await pix_desk.http.post("/payments/pix/not-the-secret/pix", content=body)
    assert wrong.status_code == 404 and await payments(pix_desk) == []
    generic = await pix_desk.http.post("/payments/webhook/pix_api", content=body)  # no secret there
    assert generic.status_code == 404 and await payments(pix_desk) == []
    bad = await pix_desk.http.post(f"/payments/pix/{WEBHOOK_SECRET}/pix", content=b'{"pix": [{"txid": "X"}]}')
    assert bad.status_code == 401
    far = body.replace(b"2026-11-26", b"1999-11-26")
    assert (await pix_desk.http.post(f"/payments/pix/{WEBHOOK_SECRET}/pix", content=far)).status_code == 422
    ok = await pix_desk.http.post(f"/payments/pix/{WEBHOOK_SECRET}", content=body)  # no /pix: fine
    assert ok.status_code == 200 and len(await payments(pix_desk)) == 1
    unknown = body.replace(txid.encode(), b"AC" + b"9" * 30).replace(b"abcdef", b"fedcba")
    response = await pix_desk.http.post(f"/payments/pix/{WEBHOOK_SECRET}/pix", content=unknown)
    assert response.status_code == 200 and response.json() == []  # not ours: acknowledged


@pytest.mark.psp(settings={"pix_webhook_hmac_secret": "hmac-key-1"})
async def test_the_webhook_checks_the_hmac_when_one_is_configured(pix_desk: PixDesk) -> None:
    txid = await agreed(pix_desk)
    body = json.dumps({"pix": [{"endToEndId": "E12345678202611261300abcdef12345", "txid": txid,
                                "valor": "10.00", "horario": "2026-11-26T13:00:00Z"}]}).encode()
    url = f"/payments/pix/{WEBHOOK_SECRET}/pix"
    assert (await pix_desk.http.post(url, content=body)).status_code == 401
    signature = hmac.new(b"hmac-key-1", body, hashlib.sha256).hexdigest()
    headers = {"X-Acordo-Signature": f"sha256={signature}"}
    signed = await pix_desk.http.post(url, content=body, headers=headers)
    assert signed.status_code == 200 and len(await payments(pix_desk)) == 1


@pytest.mark.psp(webhook_faults={"rate_lost": 1.0})
async def test_acordo_payments_reconcile_settles_what_no_webhook_reported(
        pix_desk: PixDesk, tmp_path: Path, pki: PKIFiles) -> None:
    txid = await agreed(pix_desk)
    pix_desk.psp.pay(txid)
    settings = pix_settings(pki, pix_desk.psp)
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'acordo.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           **{f"ACORDO_{key.upper()}": str(value) for key, value in settings.items()}}
    since, until = (NOW - timedelta(hours=1)).isoformat(), (NOW + timedelta(minutes=1)).isoformat()
    run = partial(CliRunner().invoke, app, ["payments", "reconcile", "--since", since, "--until", until],
                  env=env)  # --until given: the CLI's clock is the wall clock, this test's is not
    result = await asyncio.to_thread(run)
    assert result.exit_code == 0, result.output
    assert "1 PIX settled now; 0 already recorded" in result.output
    assert len(await payments(pix_desk)) == 1
    bad = await asyncio.to_thread(partial(CliRunner().invoke, app,
                                          ["payments", "reconcile", "--since", "2026-11-26"], env=env))
    assert bad.exit_code == 2 and "time zone offset" in bad.output


async def test_a_partial_payment_withdraws_the_charge_it_supersedes(pix_desk: PixDesk) -> None:
    conversation = await pix_desk.debtor()
    outcome = await pix_desk.agree(conversation)
    [charge] = outcome.replies[1].variables["charges"]
    old = charge["txid"]
    pix_desk.psp.pay(old, Decimal("100.00"))  # less than the installment
    await pix_desk.psp.settled()
    asked = await pix_desk.say(conversation, cmd.ExplainPaymentMethod(text="manda o pix"))
    [fresh] = asked.replies[0].variables["charges"]
    first = (await plan(pix_desk))[0]
    assert fresh["txid"] != old and fresh["amount"] == first.amount - Decimal("100.00")
    assert pix_desk.psp.charges[fresh["txid"]]["valor"]["original"] == f"{fresh['amount']:.2f}"
    assert pix_desk.psp.charges[old]["status"] == "CONCLUIDA"  # paid: nothing to withdraw


async def test_a_charge_superseded_before_any_pix_is_withdrawn_at_the_psp(pix_desk: PixDesk) -> None:
    conversation = await pix_desk.debtor()
    outcome = await pix_desk.agree(conversation)
    [charge] = outcome.replies[1].variables["charges"]
    response = await pix_desk.pay(txid=charge["txid"], amount="100.00", paid_at=NOW.isoformat(),
                                  reference="TED-1")  # paid some other way, in part
    assert response.status_code == 200, response.text
    asked = await pix_desk.say(conversation, cmd.ExplainPaymentMethod(text="manda o pix"))
    [fresh] = asked.replies[0].variables["charges"]
    assert fresh["txid"] != charge["txid"]
    assert pix_desk.psp.charges[charge["txid"]]["status"] == "REMOVIDA_PELO_USUARIO_RECEBEDOR"
    assert pix_desk.psp.charges[fresh["txid"]]["status"] == "ATIVA"


@pytest.mark.psp(webhook_faults={"rate_lost": 1.0})
async def test_the_workers_periodic_sweep_settles_a_lost_webhook(pix_desk: PixDesk) -> None:
    txid = await agreed(pix_desk)
    pix_desk.psp.pay(txid)
    stop = asyncio.Event()
    loop = asyncio.create_task(sweep_every(pix_desk.container.portfolio, pix_desk.provider,
                                           pix_desk.clock, timedelta(seconds=0.05),
                                           timedelta(hours=1), stop))
    for _ in range(100):
        if await payments(pix_desk):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(loop, 5)
    assert len(await payments(pix_desk)) == 1
    sweeps = [r for r in pix_desk.psp.requests if r.key == "/pix"]
    assert sweeps  # it asked GET /pix, and stopped when told


async def test_acordo_payments_pix_webhook_registers_our_url(pix_desk: PixDesk, tmp_path: Path,
                                                            pki: PKIFiles) -> None:
    pix_desk.psp.webhooks.clear()
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'acordo.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "ACORDO_PUBLIC_URL": "https://acordo.example/",
           **{f"ACORDO_{k.upper()}": str(v) for k, v in pix_settings(pki, pix_desk.psp).items()}}
    result = await asyncio.to_thread(partial(CliRunner().invoke, app, ["payments", "pix-webhook"], env=env))
    assert result.exit_code == 0, result.output
    assert pix_desk.psp.webhooks == {pix_desk.psp.chave: f"https://acordo.example/payments/pix/{WEBHOOK_SECRET}"}
    assert WEBHOOK_SECRET not in result.output  # the secret is not printed
