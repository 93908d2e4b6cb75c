"""The régua over e-mail: a step that names ``email`` queues the reminder to the debtor's
e-mail contact; the outbox sends it through a real SMTP server with the subject, the
creditor's identification, the reply and one-click opt-out headers; a hard bounce at RCPT
marks the address unreachable and the sweep falls back to the step's next channel."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from email.headerregistry import Address

import pytest
from sqlalchemy import select

from bot.cadence.service import CadenceService
from bot.channels.email import EmailChannel, SmtpServer
from bot.channels.email_tokens import MailTokens
from bot.channels.ratelimit import EmailRates, InProcessRateLimiter
from bot.clock import FixedClock
from bot.policies import PolicyBook, load_policies
from bot.rendering.renderer import TemplateRenderer
from bot.services.outbox.dispatcher import OutboxDispatcher
from bot.services.outbox.mail import MailComposer, MailIdentity
from bot.services.portfolio import PortfolioService
from bot.storage import models as db
from bot.storage.cadence_models import CadenceContact
from bot.storage.channel_models import OutboxMessage
from bot.storage.uow import unit_of_work
from tests.cadence.conftest import EARLY, MONDAY, POLICY, ROOT, Env, debtor
from tests.support.smtp import SmtpSink

DUE_SUNDAY = date(2026, 12, 6)
SENDER = Address("Acme Credora", "cobranca", "acme.example")
TOKENS = MailTokens("regua-email-secret-0123")
EMAIL_POLICY = POLICY.replace("{day: 1, template: overdue_first, channels: [whatsapp, sms, web]}",
                              "{day: 1, template: overdue_first, channels: [email, whatsapp]}")


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def email_policies(tmp_path_factory: pytest.TempPathFactory) -> PolicyBook:
    folder = tmp_path_factory.mktemp("email-policies")
    (folder / "acme.yaml").write_text(EMAIL_POLICY, encoding="utf-8")
    return load_policies(folder)


@pytest.fixture
async def email_env(sessions, email_policies: PolicyBook) -> Env:  # type: ignore[no-untyped-def]
    clock = FixedClock(EARLY)
    renderer = TemplateRenderer(ROOT / "templates")
    cadence = CadenceService(unit_of_work(sessions), email_policies, renderer, clock,
                             {"web", "telegram", "whatsapp", "sms", "email"})
    portfolio = PortfolioService(unit_of_work(sessions), email_policies, clock)
    await portfolio.ensure_creditors()
    return Env(sessions, email_policies, clock, cadence, portfolio)


def dispatcher(env: Env, sink: SmtpSink) -> OutboxDispatcher:
    channel = EmailChannel(SmtpServer("127.0.0.1", sink.port, "none", timeout=5), SENDER,
                           now=env.clock.now)
    uow = unit_of_work(env.sessions)
    composer = MailComposer(uow, env.policies, TemplateRenderer(ROOT / "templates"),
                            MailIdentity(SENDER, "acme.example", "https://acordo.example", TOKENS))
    return OutboxDispatcher(uow, {"email": channel}, InProcessRateLimiter(),
                            {"email": EmailRates(100, 100, 0.0, sender_domain="acme.example",
                                                 per_domain_per_second=100)},
                            clock=env.clock, mail=composer, late_tolerance=None)


async def rows(env: Env, model: type) -> list:  # type: ignore[type-arg]
    async with env.sessions() as session:
        return list(await session.scalars(select(model).order_by(model.id)))  # type: ignore[attr-defined]


async def test_the_reminder_goes_by_email_with_subject_identity_and_opt_out(email_env: Env,
                                                                            sink: SmtpSink) -> None:
    env = email_env
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)],
                          [("email", "Financeiro@Empresa-SP.com.br"), ("whatsapp", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    assert await env.cadence.materialize() == 1
    [row] = await rows(env, OutboxMessage)
    assert (row.channel, row.address, row.template) == ("email", "Financeiro@empresa-sp.com.br",
                                                        "overdue_first")
    env.clock.moment = row.next_attempt_at  # 08:00 in São Paulo: inside the contact hours
    await dispatcher(env, sink).run_until_idle(max_wait=5)
    [got] = sink.received
    mail = got.message
    assert got.recipients == ["Financeiro@empresa-sp.com.br"]
    assert mail["Subject"] == "Acme Credora Ltda: fatura em aberto"
    text = str(mail.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert "Acme Credora Ltda" in text and "CNPJ 11.222.333/0001-81" in text
    [contact] = [c for c in await rows(env, db.Contact) if c.channel == "email"]
    token = TOKENS.opt_out(contact.id)
    assert mail["List-Unsubscribe"].startswith(f"<https://acordo.example/u/{token}>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Reply-To"] == f"cobranca+{TOKENS.reply(contact.id)}@acme.example"
    [sent] = await rows(env, OutboxMessage)
    assert sent.status == "sent" and sent.provider_id == mail["Message-ID"]


async def test_a_hard_bounce_marks_the_address_and_the_step_falls_back(email_env: Env,
                                                                       sink: SmtpSink) -> None:
    env = email_env
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)],
                          [("email", "old@empresa-sp.com.br"), ("whatsapp", "+5511900000001")]))
    sink.handler.refuse["old@empresa-sp.com.br"] = "550 5.1.1 no such user"
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    [row] = await rows(env, OutboxMessage)
    env.clock.moment = row.next_attempt_at
    await dispatcher(env, sink).run_until_idle(max_wait=5)
    assert sink.received == []
    [failed] = await rows(env, OutboxMessage)
    assert failed.status == "failed" and "550" in (failed.last_error or "")
    email_contact = next(c for c in await rows(env, db.Contact) if c.channel == "email")
    assert email_contact.status == "unreachable"
    assert (await env.cadence.sweep())["fell_back"] == 1
    assert [c.channel for c in await rows(env, CadenceContact)] == ["email", "whatsapp"]
