"""Everything that happened with one debtor, in time order (the audit view and its CSV).

Merges the debtor's messages (every contact in and out), offers, agreements, payments,
promises and audit events (bot decisions, staff actions, imports) into one timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import models as db
from bot.storage.payment_models import Promise
from bot.storage.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor: str
    channel: str
    summary: str

    def as_row(self) -> dict[str, Any]:
        return {"at": self.at.isoformat(), "kind": self.kind, "actor": self.actor,
                "channel": self.channel, "summary": self.summary}


async def debtor_timeline(session: AsyncSession, debtor_id: int) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    messages = await session.execute(
        select(db.Message, db.Conversation.channel)
        .join(db.Conversation, db.Conversation.id == db.Message.conversation_id)
        .join(db.Contact, db.Contact.id == db.Conversation.contact_id)
        .where(db.Contact.debtor_id == debtor_id))
    for message, channel in messages.all():
        kind = "message_in" if message.direction == "in" else "message_out"
        entries.append(TimelineEntry(message.created_at, kind, message.author, channel,
                                     message.text[:500]))
    for offer in await session.scalars(select(db.Offer).where(db.Offer.debtor_id == debtor_id)):
        entries.append(TimelineEntry(offer.created_at, "offer", offer.created_by, "",
                                     f"{offer.kind} {offer.total} ({len(offer.installments)}x) "
                                     f"{offer.status}"))
    for agreement in await session.scalars(select(db.Agreement).where(db.Agreement.debtor_id == debtor_id)):
        entries.append(TimelineEntry(agreement.created_at, "agreement", agreement.created_by, "",
                                     f"{agreement.kind} {agreement.total} now {agreement.status}"))
    payments = await session.execute(
        select(db.Payment, db.Debt.external_id).join(db.Debt, db.Debt.id == db.Payment.debt_id)
        .where(db.Debt.debtor_id == debtor_id))
    for payment, debt in payments.all():
        entries.append(TimelineEntry(payment.paid_at, "payment", "debtor", "",
                                     f"{payment.amount} on {debt}"
                                     + (f" ref {payment.reference}" if payment.reference else "")))
    for promise in await session.scalars(select(Promise).where(Promise.debtor_id == debtor_id)):
        amount = promise.amount if promise.amount is not None else promise.balance
        entries.append(TimelineEntry(promise.created_at, "promise", "debtor", "",
                                     f"{amount} on {promise.promised_date.isoformat()} now {promise.status}"))
    for event in await session.scalars(select(db.AuditEvent).where(db.AuditEvent.debtor_id == debtor_id)):
        details = ", ".join(f"{k}={v}" for k, v in sorted(event.data.items()) if v is not None)
        entries.append(TimelineEntry(event.at, event.kind, event.actor, "", details[:500]))
    order = {"message_in": 0, "promise": 1, "offer": 1, "agreement": 2, "payment": 2, "message_out": 3}
    return sorted(entries, key=lambda e: (e.at, order.get(e.kind, 2)))


class AuditTrail:
    """The audit view's reads: the debtor asked for, and everything that happened with it."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def debtor(self, external_id: str, creditor: str | None) -> db.Debtor | None:
        """The debtor (with its debts); raises ``AmbiguousDebtor`` when ``external_id`` names
        debtors of several creditors and ``creditor`` does not choose one."""
        async with self._uow() as uow:
            return await uow.portfolio.get_debtor(external_id, creditor)

    async def timeline(self, debtor_id: int) -> list[TimelineEntry]:
        async with self._uow() as uow:
            return await debtor_timeline(uow.session, debtor_id)
