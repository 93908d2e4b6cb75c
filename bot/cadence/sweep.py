"""Following the outbox: contacts sent, cancelled because a pause began, expired unsent.

A queued contact takes its outbox row's outcome (``sent``; withdrawn outside the window:
``expired``; otherwise cancelled: ``cancelled``). A contact whose debt was paid, disputed or
agreed (or whose debtor is with a person) before it went is cancelled; one whose window
closed unsent is expired, and the planner plans it again on the next allowed day. A contact
is only withdrawn while its outbox row is still pending: one a worker claimed already is
left to the next sweep. The caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, true, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import models as db
from bot.storage.cadence_models import CadenceContact
from bot.storage.cadence_models import CadenceContactStatus as Status
from bot.storage.cadence_repository import PENDING, CadenceContactRepository
from bot.storage.channel_models import OUTSIDE_HOURS, OutboxMessage, OutboxStatus
from bot.storage.payment_models import Promise, PromiseStatus
from bot.storage.tables import table_of


async def follow_outbox(session: AsyncSession, now: datetime, stats: dict[str, int]) -> None:
    """Queued contacts take their outbox row's outcome (counted in ``stats`` per status)."""
    table = table_of(CadenceContact)
    outbox = table_of(OutboxMessage)
    queued = table.c.status == Status.QUEUED.value
    # Withdrawn by the dispatcher when its window closed: expired, so the régua plans
    # it again on the next allowed day (a cancelled contact is never planned again).
    after_hours = outbox.c.last_error == OUTSIDE_HOURS
    for target, statuses, which in (
        (Status.SENT, (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ), true()),
        (Status.EXPIRED, (OutboxStatus.CANCELLED,), after_hours),
        (Status.CANCELLED, (OutboxStatus.CANCELLED,), true()),
    ):
        done = await session.execute(
            update(table)
            .where(
                queued,
                table.c.outbox_id.in_(
                    select(outbox.c.id).where(outbox.c.status.in_([s.value for s in statuses]), which)
                ),
            )
            .values(status=target.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        stats[target.value] += int(getattr(done, "rowcount", 0) or 0)


async def cancel_paused(session: AsyncSession, now: datetime) -> int:
    """Queued contacts of debts that were paid, disputed or agreed, or debtors now paused."""
    table = table_of(CadenceContact)
    debts = table_of(db.Debt)
    debt_paused = select(debts.c.id).where(
        (debts.c.status != db.DebtStatus.OPEN.value) | (debts.c.amount <= debts.c.paid_amount)
    )
    debtor_paused = union(
        select(db.Agreement.debtor_id).where(db.Agreement.status == db.AgreementStatus.ACTIVE.value),
        select(Promise.debtor_id).where(Promise.status == PromiseStatus.PENDING.value),
        select(db.Contact.debtor_id)
        .join(db.Conversation, db.Conversation.contact_id == db.Contact.id)
        .where(db.Conversation.state == db.ConversationState.HUMAN.value),
    )
    rows = (
        await session.execute(
            select(table.c.id, table.c.outbox_id).where(
                table.c.status.in_(PENDING),
                table.c.debt_id.in_(debt_paused) | table.c.debtor_id.in_(debtor_paused),
            )
        )
    ).all()
    return await CadenceContactRepository(session).withdraw(rows, now, Status.CANCELLED, "cadence paused")


async def expire_missed(session: AsyncSession, now: datetime) -> int:
    """Contacts whose window closed before they went: planned again on the next allowed day."""
    table = table_of(CadenceContact)
    rows = (
        await session.execute(
            select(table.c.id, table.c.outbox_id).where(
                table.c.status.in_(PENDING), table.c.window_end <= now
            )
        )
    ).all()
    return await CadenceContactRepository(session).withdraw(rows, now, Status.EXPIRED, "outside_hours")
