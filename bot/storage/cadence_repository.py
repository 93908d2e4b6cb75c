"""The régua's contacts in storage: taking queued reminders back before they go.

A contact is withdrawn only while its outbox row is still pending: one a worker claimed
already is left alone (the sweep sees its outcome later). The caller commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.cadence_models import CadenceContact
from bot.storage.cadence_models import CadenceContactStatus as Status
from bot.storage.channel_models import OutboxMessage, OutboxStatus
from bot.storage.tables import table_of

PENDING = [Status.PLANNED.value, Status.QUEUED.value]  # not yet gone: may be withdrawn
CONTACTS = table_of(CadenceContact)
OUTBOX = table_of(OutboxMessage)


class CadenceContactRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cancel_pending(self, debt_ids: Iterable[int], reason: str, now: datetime) -> int:
        """Take these debts out of the régua at once: their reminders not yet claimed by a
        worker are cancelled, outbox row included. How many were cancelled."""
        ids = list(debt_ids)
        if not ids:
            return 0
        rows = (await self.session.execute(
            select(CONTACTS.c.id, CONTACTS.c.outbox_id)
            .where(CONTACTS.c.debt_id.in_(ids), CONTACTS.c.status.in_(PENDING)))).all()
        return await self.withdraw(rows, now, Status.CANCELLED, f"cadence paused: {reason}"[:500])

    async def withdraw(self, rows: Sequence[Any], now: datetime, status: Status, reason: str) -> int:
        """Withdraw the contacts ``(id, outbox_id)`` whose outbox row is still pending, giving
        them ``status``; returns how many were withdrawn."""
        withdrawn = 0
        for row_id, outbox_id in rows:
            if outbox_id is not None:
                changed = await self.session.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id == outbox_id, OUTBOX.c.status == OutboxStatus.PENDING.value)
                    .values(status=OutboxStatus.CANCELLED.value, last_error=reason, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if not getattr(changed, "rowcount", 0):
                    continue  # a worker holds it already
            await self.session.execute(
                update(CONTACTS)
                .where(CONTACTS.c.id == row_id)
                .values(status=status.value, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            withdrawn += 1
        return withdrawn
