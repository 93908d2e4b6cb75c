"""An agent answers a debtor who wrote by e-mail: the reply goes out by e-mail, from the
console's desk, with the subject, footer and thread headers of every e-mail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.services.staff_accounts import StaffIdentity
from bot.storage import models as db
from tests.support.email_app import EmailApp, open_email_app

pytestmark = pytest.mark.timeout(60)
PORTFOLIO = {"creditor": "demo", "debtors": [{
    "external_id": "padaria", "name": "Padaria Sol Ltda", "tax_id": "11.444.777/0001-61",
    "contacts": [{"name": "Marta", "channel": "email", "address": "marta@padaria.com.br"}],
    "debts": [{"external_id": "NF-1", "amount": "1234.00", "due_date": "2026-11-06"}]}]}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[EmailApp]:
    async for opened in open_email_app(tmp_path, PORTFOLIO, "email-agent-secret-0123"):
        yield opened


async def test_an_agent_reply_to_an_email_debtor_goes_by_email(app: EmailApp) -> None:
    container = app.container
    contact = await app.contact()
    user_id = await container.staff.add_user("alice", "agent", "a-long-password-1")
    alice = StaffIdentity(user_id, "alice", "agent", "csrf")
    # The debtor wrote by e-mail (its Message-ID is kept) and asked for a person.
    async with container.uow() as uow:
        loaded = await uow.session.get(db.Contact, contact.id)
        assert loaded is not None
        conversation = await uow.conversations.get_or_create(loaded)
        await uow.conversations.add_message(conversation, direction="in", author="debtor",
                                            text="quero falar com alguém", channel="email",
                                            provider_id="<m-1@padaria.com.br>", status="received")
        await uow.conversations.set_state(conversation, db.ConversationState.HUMAN, "request_human")
        public_id = conversation.public_id
        await uow.commit()
    await container.agent_desk.take(alice, public_id)
    await container.agent_desk.reply(alice, public_id, "Olá, Marta! Sou a Alice, do financeiro.")
    await container.channels.new_dispatcher(late_tolerance=None).run_until_idle(max_wait=5)
    [got] = app.sink.received
    mail = got.message
    assert got.recipients == ["marta@padaria.com.br"]
    assert mail["Subject"] == "Distribuidora Exemplo Ltda: mensagem sobre suas faturas"
    assert mail["In-Reply-To"] == "<m-1@padaria.com.br>"
    body = str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert body.startswith("Olá, Marta! Sou a Alice, do financeiro.")
    assert "CNPJ" in body
