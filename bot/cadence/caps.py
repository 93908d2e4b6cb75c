"""The contact caps: which contacts count against them, and the lock that keeps them exact.

Caps count, per debtor across channels, the régua's own first attempts and the follow-up's
reminders (:func:`recent_contacts`); both the planner and the follow-up read that count, and
both take :func:`lock_creditor` before they decide, so concurrent workers never exceed a cap.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, select, text, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from bot.contact_rules import rolling_week
from bot.storage.cadence_models import MADE
from bot.storage.dialect import is_postgresql
from bot.storage.tables import cc, followups

# Follow-up events that are a bot-initiated contact (payments follow-up): an installment or promise
# reminder, an overdue installment's follow-up, a broken agreement's notice. They count
# toward the caps like the régua's own contacts.
FOLLOWUP_CONTACT_KINDS = ("remind", "followup", "notice")


def recent_contacts(day: date, *, creditor_id: str | None = None,
                    debtor_ids: Sequence[int] | None = None) -> Select[Any]:
    """Per debtor: bot-initiated contacts made on ``day`` (``today``) and in the rolling 7 days
    ending on it (``week``), across channels: the régua's first attempts (a fallback to another
    channel is the same contact) and the follow-up's reminders."""
    first, last = rolling_week(day)
    regua = select(cc.c.debtor_id.label("debtor_id"), cc.c.day.label("day")).where(
        cc.c.day >= first, cc.c.day <= last, cc.c.attempt == 0, cc.c.status.in_(MADE)
    )
    followed = select(followups.c.debtor_id, followups.c.day).where(
        followups.c.day >= first, followups.c.day <= last, followups.c.kind.in_(FOLLOWUP_CONTACT_KINDS)
    )
    if creditor_id is not None:
        regua = regua.where(cc.c.creditor_id == creditor_id)
    if debtor_ids is not None:
        regua = regua.where(cc.c.debtor_id.in_(list(debtor_ids)))
        followed = followed.where(followups.c.debtor_id.in_(list(debtor_ids)))
    made = union_all(regua, followed).subquery("made_rows")
    return select(
        made.c.debtor_id,
        func.sum(case((made.c.day == day, 1), else_=0)).label("today"),
        func.count().label("week"),
    ).group_by(made.c.debtor_id)


async def lock_creditor(session: AsyncSession, creditor: str) -> None:
    """Serialize, per creditor, everything that counts contacts against the caps (the régua's
    scheduler, each follow-up decision): a PostgreSQL advisory lock released at the end of the
    transaction. SQLite has one writer at a time anyway."""
    if is_postgresql(session):
        lock = zlib.crc32(f"cadence:{creditor}".encode()) & 0x7FFFFFFF
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock})
