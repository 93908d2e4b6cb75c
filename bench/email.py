"""E-mail: reminders out through a real SMTP server under the caps, replies in through a real
IMAP server (Dovecot), on a fresh SQLite database.

1. **Send**: 5,000 reminders to 5,000 addresses spread over 10 receiving domains, through
   the outbox dispatcher, the e-mail composer (subject and footer templates) and the SMTP
   adapter, to an ``aiosmtpd`` server that stamps each accepted message. Caps: the sending
   domain 150/s, each receiving domain 20/s. Prints the send rate as a fraction of the
   sending cap and the cap violations seen by the server (any ``cap + 1`` messages of one
   domain within one second).
2. **Receive**: 1,000 e-mails appended to the Dovecot mailbox — replies with quoted history
   (half to the contact's reply-token address from a colleague, half from the contact's own
   address), some with a PDF receipt, and automatic replies (out-of-office subjects,
   ``Auto-Submitted``) from other contacts — then one IMAP round fetches, stores and
   processes them through the conversation pipeline (a stand-in dialogue engine: this
   measures Acordo, not Rasa). Prints messages processed per second, replies matched to the
   right conversation, and automatic replies answered.

Run: ``python -m bench.email`` (``--reminders``/``--replies`` for a quicker run). Without
Dovecot (``apt-get install dovecot-imapd``) the receive part is skipped with a line.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import defaultdict
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.bootstrap import build_container
from bot.channels.email import EmailChannel, SmtpServer
from bot.channels.email_tokens import MailTokens
from bot.channels.ratelimit import EmailRates, InProcessRateLimiter
from bot.clock import SystemClock
from bot.inbound.imap import ImapMailbox, ImapPoller
from bot.policies import load_policies
from bot.rendering.renderer import TemplateRenderer
from bot.schemas import PortfolioIn
from bot.services.outbox.dispatcher import OutboxDispatcher
from bot.services.outbox.mail import MailComposer, MailIdentity
from bot.storage import create_engine, migrate, session_factory
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage
from bot.storage.uow import unit_of_work
from tests.conftest import ScriptedDialogue, make_settings
from tests.support.imap import PASSWORD, USER, DovecotServer, dovecot_path
from tests.support.smtp import Received, SmtpSink

ROOT = Path(__file__).resolve().parent.parent
SENDER = Address("Distribuidora Exemplo", "cobranca", "exemplo.com.br")
SECRET = "bench-email-secret-0123456"
SENDING_CAP, DOMAIN_CAP, DOMAINS = 150.0, 20.0, 10
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def violations(times: list[float], cap: float) -> int:
    """How many windows of ``cap + 1`` consecutive sends span less than one second."""
    ordered, allowed = sorted(times), int(cap)
    return sum(1 for i in range(len(ordered) - allowed) if ordered[i + allowed] - ordered[i] < 1.0)


async def send(reminders: int, folder: Path) -> dict[str, Any]:
    url = f"sqlite:///{folder / 'send.db'}"
    await migrate(url)
    clock = SystemClock()
    engine = create_engine(url, clock=clock)
    uow = unit_of_work(session_factory(engine))
    async with uow() as unit:
        for n in range(reminders):
            await unit.outbox.enqueue(
                channel="email", address=f"financeiro{n}@cliente{n % DOMAINS}.example",
                text=f"Olá! A nota NF-{n} de R$ 1.234,00 venceu. Para pagar, responda este e-mail.",
                template="overdue_first", template_vars={}, locale="pt-BR",
                idempotency_key=f"bench-email-{n}", initiated_by="reply")
        await unit.commit()
    sink = SmtpSink().start()
    try:
        channel = EmailChannel(SmtpServer("127.0.0.1", sink.port, "none", timeout=30), SENDER,
                               now=clock.now)
        composer = MailComposer(uow, load_policies(ROOT / "policies"),
                                TemplateRenderer(ROOT / "templates"),
                                MailIdentity(SENDER, "exemplo.com.br", "https://acordo.example",
                                             MailTokens(SECRET)))
        rates = EmailRates(SENDING_CAP, 1.0, 0.03, sender_domain="exemplo.com.br",
                           per_domain_per_second=DOMAIN_CAP)
        dispatcher = OutboxDispatcher(uow, {"email": channel}, InProcessRateLimiter(),
                                      {"email": rates}, clock=clock, mail=composer, batch=300,
                                      concurrency=32)
        started = time.monotonic()
        await dispatcher.run_until_idle()
        seconds = time.monotonic() - started
        received: list[Received] = list(sink.received)
    finally:
        sink.stop()
        await engine.dispose()
    by_domain: dict[str, list[float]] = defaultdict(list)
    for got in received:
        by_domain[got.recipients[0].rpartition("@")[2]].append(got.at)
    return {"sent": len(received), "seconds": seconds, "rate": len(received) / seconds,
            "sending_violations": violations([g.at for g in received], SENDING_CAP),
            "domain_violations": sum(violations(t, DOMAIN_CAP) for t in by_domain.values())}


def portfolio(contacts: int) -> PortfolioIn:
    return PortfolioIn.model_validate({"creditor": "demo", "debtors": [{
        "external_id": f"cli{n}", "name": f"Cliente {n} Ltda", "tax_id": "11.444.777/0001-61",
        "contacts": [{"name": f"Financeiro {n}", "channel": "email",
                      "address": f"financeiro{n}@cliente{n % DOMAINS}.example"}],
        "debts": [{"external_id": f"NF-{n}", "amount": "1234.00", "due_date": "2026-10-01"}]}
        for n in range(contacts)]})


def inbound_mail(n: int, contact_id: int, address: str, kind: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Message-ID"] = f"<bench-{n}@cliente.example>"
    mail["Subject"] = "Re: Distribuidora Exemplo Ltda: fatura em aberto"
    if kind == "auto":
        mail["From"] = address
        mail["To"] = "cobranca@exemplo.com.br"
        mail.replace_header("Subject", "Resposta automática: estou de férias" if n % 2
                            else "Out of office")
        if n % 3 == 0:
            mail["Auto-Submitted"] = "auto-replied"
        mail.set_content("Estou fora do escritório até segunda-feira.")
        return mail
    token_address = f"cobranca+{MailTokens(SECRET).reply(contact_id)}@exemplo.com.br"
    colleague = n % 2 == 0
    mail["From"] = f"colega{n}@cliente{n % DOMAINS}.example" if colleague else address
    mail["To"] = token_address if colleague else "cobranca@exemplo.com.br"
    mail.set_content(f"Bom dia, ref-{n}: quanto devo?\n\nEm seg., 7 de dez. de 2026, "
                     "Distribuidora Exemplo escreveu:\n> Olá! A nota venceu.\n> Atenciosamente")
    if kind == "receipt":
        mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="comprovante.pdf")
    return mail


async def receive(replies: int, folder: Path) -> dict[str, Any] | str:
    if dovecot_path() is None:
        return "skipped: Dovecot is not installed (apt-get install dovecot-imapd)"
    dovecot = DovecotServer().start()
    sink = SmtpSink().start()
    try:
        settings = make_settings(folder, database_url=f"sqlite:///{folder / 'receive.db'}",
                                 link_secret=SECRET, smtp_host="127.0.0.1", smtp_port=sink.port,
                                 smtp_security="none", outbox_in_app=False,
                                 smtp_from="Distribuidora Exemplo <cobranca@exemplo.com.br>")
        async with build_container(settings, dialogue=ScriptedDialogue()) as container:
            return await _receive(container, dovecot, replies)
    finally:
        sink.stop()
        dovecot.stop()


async def _receive(container: Any, dovecot: DovecotServer, replies: int) -> dict[str, Any]:
    await container.portfolio.import_portfolio(portfolio(replies))
    async with container.sessions() as session:
        contacts = list(await session.scalars(select(db.Contact).order_by(db.Contact.id)))
    expected: dict[int, int] = {}
    autos: set[str] = set()
    for n, contact in enumerate(contacts):
        kind = "auto" if n % 5 == 4 else ("receipt" if n % 10 == 3 else "reply")
        if kind == "auto":
            autos.add(contact.address)
        else:
            expected[n] = contact.id
        await dovecot.append(inbound_mail(n, contact.id, contact.address, kind).as_bytes())
    poller = ImapPoller(ImapMailbox("127.0.0.1", dovecot.port, USER, PASSWORD, "none", timeout=60),
                        container.channels.inbound)
    started = time.monotonic()
    fetched = await poller.fetch_once()
    await container.channels.inbound.wait_idle()
    seconds = time.monotonic() - started
    async with container.sessions() as session:
        rows = (await session.execute(
            select(db.Message.text, db.Conversation.contact_id)
            .join(db.Conversation, db.Conversation.id == db.Message.conversation_id)
            .where(db.Message.direction == "in"))).all()
        answered = len(list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.address.in_(autos)))))
    matched = sum(1 for text, contact_id in rows
                  if (n := _ref(text)) is not None and expected.get(n) == contact_id)
    return {"fetched": fetched, "seconds": seconds, "per_second": fetched / seconds,
            "replies": len(expected), "matched": matched, "autos": len(autos),
            "autos_answered": answered}


def _ref(text: str) -> int | None:
    for word in text.replace(":", " ").split():
        if word.startswith("ref-") and word[4:].isdigit():
            return int(word[4:])
    return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=5_000)
    parser.add_argument("--replies", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="acordo-bench-email-") as name:
        folder = Path(name)
        out = await send(args.reminders, folder)
        print(f"send: {out['sent']} e-mails in {out['seconds']:.1f} s = {out['rate']:.1f}/s, "
              f"{out['rate'] / SENDING_CAP:.0%} of the sending domain's cap ({SENDING_CAP:.0f}/s); "
              f"cap violations: sending domain {out['sending_violations']}, "
              f"receiving domains ({DOMAINS} at {DOMAIN_CAP:.0f}/s) {out['domain_violations']}")
        got = await receive(args.replies, folder)
        if isinstance(got, str):
            print(f"receive: {got}")
            return
        print(f"receive: {got['fetched']} e-mails fetched, stored and processed in "
              f"{got['seconds']:.1f} s = {got['per_second']:.1f}/s; replies matched to the right "
              f"conversation {got['matched']}/{got['replies']} "
              f"({got['matched'] / max(got['replies'], 1):.0%}); automatic replies answered "
              f"{got['autos_answered']} of {got['autos']}")


if __name__ == "__main__":
    asyncio.run(main())
