"""E-mail replies through a real IMAP server (Dovecot) into the conversation: matched to the
contact by the reply token, by ``In-Reply-To`` or by the sender; stored before processed, so
a message is processed once even when fetched twice or after a restart; automatic replies
and no-reply senders recorded and never answered; a hard bounce marks the address
unreachable; a receipt attached to the reply kept on the payment claim."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.channels.email_tokens import MailTokens
from bot.inbound.imap import ImapMailbox, ImapPoller
from bot.storage import models as db
from bot.storage.channel_models import InboundUpdate, OutboxMessage
from bot.storage.claim_models import ClaimAttachment, PaymentClaim
from tests.support.email_app import EmailApp, open_email_app
from tests.support.imap import PASSWORD, USER, DovecotServer, wait_for
from tests.support.requirements import need

pytestmark = pytest.mark.timeout(90)
SECRET = "email-replies-secret-0123"
TOKENS = MailTokens(SECRET)
PORTFOLIO = {"creditor": "demo", "debtors": [{
    "external_id": "padaria", "name": "Padaria Sol Ltda", "tax_id": "11.444.777/0001-61",
    "contacts": [{"name": "Marta", "channel": "email", "address": "marta@padaria.com.br"}],
    "debts": [{"external_id": "NF-1", "amount": "1234.00", "due_date": "2026-11-06"}]}]}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    need("dovecot")
    server = DovecotServer().start()
    yield server
    server.stop()


@dataclass
class App(EmailApp):
    dovecot: DovecotServer = field(default=None)  # type: ignore[assignment]
    poller: ImapPoller = field(default=None)  # type: ignore[assignment]

    async def fetch(self) -> int:
        new = await self.poller.fetch_once()
        await self.container.channels.inbound.wait_idle()
        return new

    async def debtor_messages(self) -> list[db.Message]:
        async with self.container.sessions() as session:
            return list(await session.scalars(select(db.Message).where(
                db.Message.direction == "in").order_by(db.Message.id)))


@pytest.fixture
async def app(tmp_path: Path, dovecot: DovecotServer) -> AsyncIterator[App]:
    async for opened in open_email_app(tmp_path, PORTFOLIO, SECRET):
        mailbox = ImapMailbox("127.0.0.1", dovecot.port, USER, PASSWORD, "none", timeout=10)
        poller = ImapPoller(mailbox, opened.container.channels.inbound, poll_seconds=1)
        await poller.fetch_once()  # an earlier test's mail is seen and not ours
        yield App(opened.http, opened.container, opened.sink, dovecot, poller)


def reply(text: str, message_id: str, sender: str = "Marta <marta@padaria.com.br>",
          to: str = "cobranca@exemplo.com.br", **headers: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = headers.pop("Subject", "Re: Distribuidora Exemplo Ltda: fatura em aberto")
    mail["Message-ID"] = message_id
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(text)
    return mail


async def test_a_reply_to_the_token_address_reaches_the_contact_once(app: App) -> None:
    contact = await app.contact()
    to = f"cobranca+{TOKENS.reply(contact.id)}@exemplo.com.br"
    # Sent from a colleague's address: the token says whose conversation it is.
    raw = reply("Bom dia, quanto devo?\n\nEm qui., 26 de nov. de 2026, Distribuidora escreveu:\n> ola",
                "<t-1@padaria.com.br>", sender="Joao <joao@padaria.com.br>", to=to)
    await app.dovecot.append(raw.as_bytes())
    assert await app.fetch() == 1
    [message] = await app.debtor_messages()
    assert message.text == "Bom dia, quanto devo?" and message.channel == "email"
    async with app.container.sessions() as session:
        conversation = await session.get(db.Conversation, message.conversation_id)
        assert conversation is not None and conversation.contact_id == contact.id
    # The bot's answer is queued to the contact by e-mail.
    replies = [r for r in await app.rows(OutboxMessage) if r.channel == "email"]
    assert replies and all(r.address == "marta@padaria.com.br" for r in replies)
    # Delivered again (the same Message-ID) or fetched again: processed once.
    await app.dovecot.append(raw.as_bytes())
    assert await app.fetch() == 0
    assert len(await app.debtor_messages()) == 1
    assert app.poller.stats["duplicates"] == 1


async def test_a_reply_is_matched_by_in_reply_to_then_by_the_sender(app: App) -> None:
    ours = (await app.send_one("t:{index}"))["Message-ID"]
    await app.dovecot.append(reply("pode ser", "<t-2@outro.com.br>", sender="x@outro.com.br",
                                   In_Reply_To=ours).as_bytes())
    await app.dovecot.append(reply("e o boleto?", "<t-3@padaria.com.br>").as_bytes())
    assert await app.fetch() == 2
    texts = [(m.text, m.channel) for m in await app.debtor_messages()]
    assert texts == [("pode ser", "email"), ("e o boleto?", "email")]


async def test_automatic_replies_and_no_reply_senders_are_kept_never_answered(app: App) -> None:
    await app.dovecot.append(reply("Estou de férias até 10/12.", "<a-1@padaria.com.br>",
                                   Subject="Resposta automática: fatura em aberto").as_bytes())
    await app.dovecot.append(reply("x", "<a-2@padaria.com.br>", Auto_Submitted="auto-replied").as_bytes())
    await app.dovecot.append(reply("Seu chamado foi aberto", "<a-3@sistema.com.br>",
                                   sender="noreply@sistema.com.br").as_bytes())
    assert await app.fetch() == 3
    assert await app.debtor_messages() == []
    assert [r for r in await app.rows(OutboxMessage)] == []
    kept = await app.rows(InboundUpdate)
    assert {u.provider_key for u in kept} >= {"<a-1@padaria.com.br>", "<a-2@padaria.com.br>",
                                              "<a-3@sistema.com.br>"}
    assert all(u.status == "processed" for u in kept)


async def test_a_hard_bounce_marks_the_address_unreachable(app: App) -> None:
    ours = (await app.send_one("b:{index}"))["Message-ID"]
    bounce = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.padaria.com.br>\nTo: cobranca@exemplo.com.br\n"
        "Subject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn-1@mx.padaria.com.br>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.padaria.com.br\n\n"
        "Final-Recipient: rfc822; marta@padaria.com.br\nAction: failed\nStatus: 5.1.1\n\n"
        f"--B\nContent-Type: text/rfc822-headers\n\nMessage-ID: {ours}\n\n--B--\n")
    await app.dovecot.append(bounce)
    assert await app.fetch() == 1
    [row] = await app.rows(OutboxMessage)
    assert row.status == "failed" and "hard 5.1.1" in (row.last_error or "")
    assert (await app.contact()).status == "unreachable"


async def test_a_receipt_attached_to_a_reply_is_kept_on_the_payment_claim(app: App) -> None:
    mail = reply("ja pagamos, segue o comprovante", "<c-1@padaria.com.br>")
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="comprovante.pdf")
    # Declared a PDF, but its bytes are not one: not kept.
    mail.add_attachment(b"MZ\x90\x00 not a pdf", maintype="application", subtype="pdf",
                        filename="virus.pdf")
    await app.dovecot.append(mail.as_bytes())
    assert await app.fetch() == 1
    [message] = await app.debtor_messages()
    assert message.text == "ja pagamos, segue o comprovante"
    [claim] = await app.rows(PaymentClaim)
    attachments = await app.rows(ClaimAttachment)
    assert [(a.claim_id, a.content_type) for a in attachments] == [(claim.id, "application/pdf")]


async def test_a_message_stored_before_a_crash_is_processed_on_resume(app: App) -> None:
    await app.dovecot.append(reply("quanto devo?", "<r-1@padaria.com.br>").as_bytes())
    processor = app.container.channels.inbound
    real = processor.process_later
    processor.process_later = lambda *args, **kwargs: None  # type: ignore[method-assign]
    try:
        assert await app.poller.fetch_once() == 1  # stored and marked seen, then "crashed"
    finally:
        processor.process_later = real  # type: ignore[method-assign]
    assert await app.debtor_messages() == []
    assert await processor.resume() == 1
    [message] = await app.debtor_messages()
    assert message.text == "quanto devo?"


async def test_the_running_poller_waits_in_idle_and_picks_new_mail_up(app: App) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(app.poller.run(stop))
    try:
        await asyncio.sleep(0.3)  # logged in, in IDLE
        await app.dovecot.append(reply("bom dia", "<i-1@padaria.com.br>").as_bytes())

        async def arrived() -> bool:
            await app.container.channels.inbound.wait_idle()
            return len(await app.debtor_messages()) == 1

        await wait_for(arrived, 20)
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert (await app.debtor_messages())[0].text == "bom dia"
