"""Charges and settlement over the API Pix emulator, with lost and duplicated webhooks.

In one process: the PSP emulator (mutual TLS, OAuth2) and the app on a fresh SQLite file,
its PIX settings pointing at the emulator, the emulator's callbacks delivered to the app
through its ASGI client. ``--n`` installments (agreements of 3) are charged (``cobv`` per
installment, through ``PaymentDesk.instructions``), each is paid once at the emulator, 5%
of the callbacks are lost and 5% sent twice (``--lost``, ``--duplicated``), then one
reconciliation sweep (``GET /pix``) runs. PIX are paid ``--concurrency`` at a time (each
batch's callbacks awaited before the next). Prints: charges/s, payments settled/s, duplicate
payments recorded (target 0), PIX still unsettled after one sweep (target 0), and the
payment-to-settlement latency p50/p95 of the webhooks delivered.

Run: ``python -m bench.pix`` (N = 10,000) or ``python -m bench.pix --n 2000``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.app import create_app
from bot.clock import SystemClock
from bot.config import Settings
from bot.conversation import commands as cmd
from bot.devtools.emulators.certificates import make_test_pki
from bot.devtools.emulators.pix import PixEmulator, WebhookFaults
from bot.services.pix_reconciliation import sweep
from bot.storage import models as db
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.portfolio import PortfolioRepository
from tests.conftest import ScriptedDialogue
from tests.support.lifespan import lifespan

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": "Bearer bench"}
SECRET = "bench-webhook-secret"


class Sender:
    def __init__(self) -> None:
        self.http: httpx.AsyncClient | None = None
        self.paid_at: dict[str, float] = {}  # txid -> when paid (monotonic)
        self.latencies: list[float] = []

    async def __call__(self, url: str, body: bytes) -> int:
        assert self.http is not None
        response = await self.http.post(urlsplit(url).path, content=body,
                                        headers={"Content-Type": "application/json"})
        txid = body.split(b'"txid": "')[1].split(b'"')[0].decode()
        self.latencies.append(time.perf_counter() - self.paid_at[txid])
        return response.status_code


def settings(work: Path, psp: PixEmulator) -> Settings:
    pki = psp.pki
    return Settings(database_url=f"sqlite:///{work / 'pix.db'}", policies_dir=ROOT / "policies",
                    templates_dir=ROOT / "templates", admin_token="bench", action_token=None,
                    public_url="https://acordo.example", pix_api_url=psp.base_url,
                    pix_client_id=psp.client_id, pix_client_secret=psp.client_secret,
                    pix_cert=pki.client_cert, pix_key=pki.client_key, pix_ca=pki.ca,
                    pix_chave=psp.chave, pix_webhook_secret=SECRET, pix_reconcile_minutes=0,
                    _env_file=None)  # type: ignore[call-arg]


def cnpj(n: int) -> str:
    """A valid CNPJ (check digits) for debtor ``n``."""
    digits = [int(c) for c in f"{n + 10_000_000:08d}0001"]
    for weights in ([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]):
        rest = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
        digits.append(0 if rest < 2 else 11 - rest)
    return "".join(map(str, digits))


async def load(http: httpx.AsyncClient, agreements: int) -> None:
    for start in range(0, agreements, 500):
        debtors = [{"external_id": f"d{n}", "name": f"Devedor {n} Ltda", "tax_id": cnpj(n),
                    "locale": "pt-BR", "contacts": [{"name": "Fin", "channel": "web",
                                                     "address": f"fin@d{n}.example"}],
                    "debts": [{"external_id": f"NF-{n}", "amount": "3000.00", "currency": "BRL",
                               "due_date": "2026-01-10", "description": "NF"}]}
                   for n in range(start, min(start + 500, agreements))]
        response = await http.post("/api/v1/portfolio", headers=ADMIN,
                                   json={"creditor": "demo", "debtors": debtors})
        response.raise_for_status()


async def agree(container: Any, agreements: int) -> None:
    """Each debtor accepts 3 installments (its first installment's charge is issued then)."""
    for n in range(agreements):
        async with container.sessions() as session:
            contact = await PortfolioRepository(session).find_contact("web", f"fin@d{n}.example")
            conversation = await ConversationRepository(session).get_or_create(contact)
            await session.commit()
            public_id = conversation.public_id
        offered = await container.negotiation.execute(public_id, cmd.OfferInstallments(text="3x"))
        async with container.sessions() as session:  # the offer on screen, as the chat stores it
            conversations = ConversationRepository(session)
            row = await conversations.by_public_id(public_id)
            for reply in offered.replies:
                await conversations.add_message(
                    row, direction="out", author="bot", text=reply.template, channel="web",
                    status="sent", template=reply.template,
                    buttons=[{"title": b.title_template, "payload": b.payload} for b in reply.buttons])
            await session.commit()
        await container.negotiation.execute(public_id, cmd.AcceptOffer(text="sim"))


async def charge_all(container: Any) -> int:
    """The charges of every open installment (``PaymentDesk.instructions``)."""
    issued = 0
    async with container.sessions() as session:
        agreements = list(await session.scalars(select(db.Agreement).options(
            selectinload(db.Agreement.installments))))
    for agreement in agreements:
        async with container.sessions() as session:
            debtor = await session.get(db.Debtor, agreement.debtor_id)
            items = list(await session.scalars(select(db.Installment).where(
                db.Installment.agreement_id == agreement.id)))
            policy = container.policies[debtor.creditor_id]
            issued += len(await container.payments.instructions(session, policy, debtor, items))
            await session.commit()
    return issued


async def pay_all(psp: PixEmulator, sender: Sender, batch: int) -> int:
    txids = [t for t, c in psp.charges.items() if c["status"] == "ATIVA"]
    for start in range(0, len(txids), batch):
        for txid in txids[start:start + batch]:
            sender.paid_at[txid] = time.perf_counter()
            psp.pay(txid)
        await psp.settled()
    return len(txids)


async def count(container: Any, query: Any) -> int:
    async with container.sessions() as session:
        return int(await session.scalar(query) or 0)


async def run(n: int, lost: float, duplicated: float, batch: int = 10) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="acordo-bench-pix-"))
    sender, clock = Sender(), SystemClock()
    psp = PixEmulator(make_test_pki(work / "pki"), clock=clock, sender=sender, seed=7,
                      webhook_faults=WebhookFaults(rate_lost=lost, rate_duplicated=duplicated))
    await psp.start()
    try:
        app = create_app(settings(work, psp), clock=clock, dialogue=ScriptedDialogue())
        async with lifespan(app) as manager, httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url="http://bench") as http:
            sender.http = http
            container = app.state.container
            provider = container.payments.pix_api()
            await provider.register_webhook(f"https://acordo.example/payments/pix/{SECRET}")
            agreements = -(-n // 3)
            await load(http, agreements)
            started = time.perf_counter()
            await agree(container, agreements)
            await charge_all(container)
            charging = time.perf_counter() - started
            started = time.perf_counter()
            paid = await pay_all(psp, sender, batch)
            paying = time.perf_counter() - started
            before_sweep = await count(container, select(func.count(db.Payment.id)))
            now = clock.now()
            tally = await sweep(container.portfolio, provider, now - timedelta(hours=6), now)
            payments = await count(container, select(func.count(db.Payment.id)))
            references = await count(container, select(func.count(func.distinct(db.Payment.reference))))
    finally:
        await psp.stop()
    latencies = sorted(sender.latencies)
    return {"installments": n, "charges": len(psp.charges), "charges_per_s": len(psp.charges) / charging,
            "paid": paid, "settled_by_webhook": before_sweep,
            "settled_per_s": before_sweep / paying, "callbacks": len(psp.callbacks),
            "lost_callbacks": len(psp.lost), "swept": tally.settled,
            "duplicates": payments - references, "missed_after_sweep": paid - payments,
            "p50_ms": 1000 * statistics.median(latencies) if latencies else 0.0,
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="installments to charge and pay")
    parser.add_argument("--lost", type=float, default=0.05)
    parser.add_argument("--duplicated", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=10, help="PIX paid at once (a batch)")
    args = parser.parse_args()
    result = asyncio.run(run(args.n, args.lost, args.duplicated, args.concurrency))
    print(f"charges: {result['charges']} ({result['charges_per_s']:.1f}/s, agreements included)")
    print(f"paid: {result['paid']}; settled by webhook: {result['settled_by_webhook']} "
          f"({result['settled_per_s']:.1f}/s); callbacks {result['callbacks']}, "
          f"lost {result['lost_callbacks']}; settled by the sweep: {result['swept']}")
    print(f"duplicate payments: {result['duplicates']} (target 0); "
          f"missed after one sweep: {result['missed_after_sweep']} (target 0)")
    print(f"payment -> settlement (webhook): p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms")
    complete = result["charges"] >= result["installments"] and result["paid"] == result["charges"]
    return 0 if complete and result["duplicates"] == 0 and result["missed_after_sweep"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
