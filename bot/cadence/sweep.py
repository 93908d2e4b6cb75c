"""Following the outbox: contacts sent, cancelled because a pause began, expired unsent.

A queued contact takes its outbox row's outcome (``sent``; withdrawn outside the window:
``expired``; otherwise cancelled: ``cancelled``). A contact whose debt was paid, disputed or
agreed (or whose debtor is with a person) before it went is cancelled; one whose window
closed unsent is expired, and the planner plans it again on the next allowed day. A contact
is only withdrawn while its outbox row is still pending: one a worker claimed already is
left to the next sweep. The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, true, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.tables import table_of
from bot.storage import models as db
from bot.storage.cadence_models import CadenceContact
from bot.storage.cadence_models import CadenceContactStatus as Status
from bot.storage.channel_models import OUTSIDE_HOURS, OutboxMessage, OutboxStatus
from bot.storage.payment_models import Promise, PromiseStatus

PENDING = [Status.PLANNED.value, Status.QUEUED.value]  # not yet gone: may be withdrawn


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


async def cancel_pending(session: AsyncSession, debt_ids: Iterable[int], reason: str, now: datetime) -> int:
    """Take these debts out of the régua at once: their queued reminders not yet claimed by a
    worker are cancelled in the outbox (the caller commits). How many were cancelled."""
    ids = list(debt_ids)
    if not ids:
        return 0
    table = table_of(CadenceContact)
    rows = (
        await session.execute(
            select(table.c.id, table.c.outbox_id).where(table.c.debt_id.in_(ids), table.c.status.in_(PENDING))
        )
    ).all()
    return await withdraw(session, rows, now, Status.CANCELLED, f"cadence paused: {reason}"[:500])


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
    return await withdraw(session, rows, now, Status.CANCELLED, "cadence paused")


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
    return await withdraw(session, rows, now, Status.EXPIRED, "outside_hours")


async def withdraw(
    session: AsyncSession, rows: Sequence[Any], now: datetime, status: Status, reason: str
) -> int:
    """Withdraw contacts whose outbox row is still pending; one already claimed or sent is
    left alone (the sweep will see its outcome). Returns how many were withdrawn."""
    table = table_of(CadenceContact)
    outbox = table_of(OutboxMessage)
    withdrawn = 0
    for row_id, outbox_id in rows:
        if outbox_id is not None:
            changed = await session.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id, outbox.c.status == OutboxStatus.PENDING.value)
                .values(status=OutboxStatus.CANCELLED.value, last_error=reason, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if not getattr(changed, "rowcount", 0):
                continue  # a worker holds it already
        await session.execute(
            update(table)
            .where(table.c.id == row_id)
            .values(status=status.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        withdrawn += 1
    return withdrawn
