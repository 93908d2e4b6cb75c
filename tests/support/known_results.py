"""The known portfolio of the results dashboard: four debtors with known outcomes in November
2026 (see docs/dashboard.md), used by tests/payments/test_results.py and the browser test."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import models as db
from bot.storage.payment_repositories import PaymentRepository, PromiseRepository
from bot.storage.repositories.agreements import AgreementRepository
from bot.storage.repositories.audit import AuditLog
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.portfolio import PortfolioRepository
from bot.storage.staff_models import TemplateVersion

D = Decimal


def at(day: int, month: int = 11, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


async def build_portfolio(session: AsyncSession) -> None:
    """Four debtors with known outcomes in November 2026 (see docs/dashboard.md)."""
    repo, conversations = PortfolioRepository(session), ConversationRepository(session)
    agreements, audit = AgreementRepository(session), AuditLog(session)
    await repo.upsert_creditor("demo", "Distribuidora Exemplo Ltda", "11.222.333/0001-81")

    async def debtor(key: str, channel: str, debts: list[tuple[str, str, date]]
                     ) -> tuple[db.Debtor, db.Conversation, list[db.Debt]]:
        row = await repo.upsert_debtor("demo", key, f"{key} Ltda", None, "America/Sao_Paulo", "pt-BR")
        contact = await repo.upsert_contact(row, "Ana", channel, f"{key}@{channel}")
        rows = [await repo.upsert_debt(row, ext, amount, "BRL", due) for ext, amount, due in debts]
        return row, await conversations.get_or_create(contact), rows

    async def say(conversation: db.Conversation, when: datetime, author: str = "bot",
                  template: str | None = None) -> None:
        direction = "in" if author == "debtor" else "out"
        await conversations.add_message(conversation, direction=direction, author=author, text="…",
                                        channel=conversation.channel, status="sent", template=template,
                                        at=when)

    async def agree(debtor_row: db.Debtor, conversation: db.Conversation, debts: list[db.Debt],
                    when: datetime, status: str, created_by: str = "bot") -> None:
        offer = await agreements.add_offer(
            conversation_id=conversation.id, debtor_id=debtor_row.id, kind="full_payment",
            balance=sum(d.amount for d in debts), total=sum(d.amount for d in debts),
            installments=[{"number": 1, "due_date": when.date(), "amount": debts[0].amount}],
            created_by=created_by)
        offer.created_at = when
        agreement = await agreements.create_agreement(debtor_row.id, offer, debts, created_by)
        agreement.created_at, agreement.status = when, status

    # A (web, early): contacted 11-11, agreement by the bot on 11-12 (kept), paid 1000 on 11-15.
    a, conv_a, [a1] = await debtor("a", "web", [("A1", "1000.00", date(2026, 11, 10))])
    await say(conv_a, at(11), template="overdue_first")
    await say(conv_a, at(12, hour=11), author="debtor")
    await say(conv_a, at(12, hour=13), template="offer_installments")
    await agree(a, conv_a, [a1], at(12, hour=13), "kept")
    await PaymentRepository(session).record(a1, "1000.00", at(15))
    # B (whatsapp, late): a person took over on 11-06 and agreed (broken later); two promises.
    b, conv_b, [b1, b2] = await debtor("b", "whatsapp", [("B1", "2000.00", date(2026, 9, 1)),
                                                         ("B2", "500.00", date(2026, 12, 20))])
    await say(conv_b, at(5), template="overdue_first")
    await audit.record("handoff", "bot", debtor_id=b.id, data={"reason": "request_human"}, at=at(6, hour=10))
    await say(conv_b, at(6, hour=11), author="agent")
    await say(conv_b, at(6, hour=12), author="agent")
    await agree(b, conv_b, [b1], at(6, hour=12), "broken", created_by="agent")
    b1.status = "open"
    kept = await PromiseRepository(session).add(debtor_id=b.id, promised_date=date(2026, 11, 4),
                                                balance=D("100.00"), at=at(3))
    kept.status = "kept"
    broken = await PromiseRepository(session).add(debtor_id=b.id, promised_date=date(2026, 11, 23),
                                                  balance=D("2000.00"), at=at(20))
    broken.status = "broken"
    await PaymentRepository(session).record(b1, "500.00", at(21))
    # C (sms, early): one reminder before the period, one in it; disputed; paid after the period.
    c, conv_c, [c1] = await debtor("c", "sms", [("C1", "300.00", date(2026, 11, 20))])
    await say(conv_c, at(30, month=10), template="reminder_upcoming")
    await say(conv_c, at(21), template="overdue_first")
    await PaymentRepository(session).record(c1, "50.00", at(2, month=12))
    c1.status = "disputed"
    # D (web, early): handed off on 11-20, then an agreement by the bot on 11-26 (still active).
    d, conv_d, [d1] = await debtor("d", "web", [("D1", "800.00", date(2026, 11, 25))])
    await audit.record("handoff", "bot", debtor_id=d.id, data={}, at=at(20))
    await say(conv_d, at(26), template="offer_full_payment")
    await agree(d, conv_d, [d1], at(26), "active")
    # overdue_first was edited on 11-08: messages after it used version 2.
    session.add(TemplateVersion(name="overdue_first", locale="pt-BR", channel="", version=2,
                                source="x", author="carla", created_at=at(8)))
    await session.commit()


async def add_portal_use(session: AsyncSession) -> None:
    """The portal on the known portfolio: A's and D's agreements were accepted on the portal
    page; A first opened it on 11-10 13:00 (2.0 days before), D first used a link on 11-25
    00:00 (1.5 days before; D had been handed to a person on 11-20, so not without a human);
    C opened the page on 11-21 and agreed to nothing; B opened it in October. Links issued:
    A and D in November, B in October."""
    from sqlalchemy import select, update

    from bot.storage.portal_link_models import StoredPortalLink

    audit = AuditLog(session)
    debtors = {d.external_id: d for d in await session.scalars(select(db.Debtor))}
    contacts = {c.debtor_id: c.id for c in await session.scalars(select(db.Contact))}
    await session.execute(update(db.Agreement).where(db.Agreement.debtor_id.in_(
        [debtors["a"].id, debtors["d"].id])).values(created_by="portal"))
    await audit.record("portal_viewed", "portal", debtor_id=debtors["a"].id, at=at(10, hour=13))
    await audit.record("portal_viewed", "portal", debtor_id=debtors["a"].id, at=at(11, hour=13))
    await audit.record("portal_link_used", "portal", debtor_id=debtors["d"].id, at=at(25, hour=0))
    await audit.record("portal_viewed", "portal", debtor_id=debtors["c"].id, at=at(21))
    await audit.record("portal_viewed", "portal", debtor_id=debtors["b"].id, at=at(20, month=10))
    for key, when in (("a", at(9)), ("d", at(24)), ("b", at(19, month=10))):
        session.add(StoredPortalLink(token_hash=key * 64, debtor_id=debtors[key].id,
                                     contact_id=contacts[debtors[key].id], issued_by="reminder",
                                     issued_at=when, expires_at=at(30, month=12), use_count=1))
    await session.commit()
