"""Agreements and local times for the régua and follow-up suites."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from bot.storage import models as db
from bot.storage.repositories.agreements import AgreementRepository
from bot.storage.repositories.conversations import ConversationRepository
from tests.cadence.conftest import Env


def at_local(day: date, hour: int) -> datetime:
    """``hour``:00 in São Paulo (UTC-3) on ``day``."""
    return datetime(day.year, day.month, day.day, hour + 3, 0, tzinfo=UTC)


async def agree(env: Env, debt_ext: str, plan: Sequence[tuple[date, str]]) -> int:
    """An active agreement over the debt with these (due date, amount) installments."""
    async with env.sessions() as session:
        debt = await session.scalar(select(db.Debt).where(db.Debt.external_id == debt_ext))
        assert debt is not None
        contact = await session.scalar(select(db.Contact).where(db.Contact.debtor_id == debt.debtor_id))
        assert contact is not None
        conversation = await ConversationRepository(session).get_or_create(contact)
        repo = AgreementRepository(session)
        total = sum((Decimal(amount) for _, amount in plan), Decimal("0"))
        offer = await repo.add_offer(
            conversation_id=conversation.id, debtor_id=debt.debtor_id, kind="installments",
            balance=total, total=total, created_by="bot",
            installments=[{"number": n, "due_date": due, "amount": amount}
                          for n, (due, amount) in enumerate(plan, start=1)])
        agreement = await repo.create_agreement(debt.debtor_id, offer, [debt], created_by="bot")
        await session.commit()
        return agreement.id
