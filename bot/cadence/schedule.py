"""Writing a day's decisions, set-wise: contacts to make and the reasons not to.

The planner's statement (:mod:`bot.cadence.plan`) runs into a temporary table; from there
the contacts to make go to ``cadence_contacts`` (status ``planned``, a deterministic
idempotency key ``cadence:<debt>:<cadence>:<step>:<day>``, ``ON CONFLICT DO NOTHING``) and
the decisions not to contact to ``contact_decisions`` (one row per debt, step and reason,
its ``last_day`` and ``days`` moved on). A re-run (or a crashed run run again) changes
nothing. The caller holds the creditor's lock and commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.storage.cadence_models import CadenceContact, CadenceContactStatus, ContactDecision
from bot.storage.dialect import upsert_into
from bot.storage.tables import table_of

# The columns of the planner's decision rows, in order.
DECISION_COLUMNS = (
    "debt_id",
    "debtor_id",
    "debtor_ext",
    "debt_ext",
    "due_date",
    "segment",
    "cadence",
    "step",
    "template",
    "contact_id",
    "channel",
    "zone",
    "at",
    "window_end",
    "reason",
    "detail",
)
# ``cadence_contacts`` columns a planned contact fills.
CONTACT_COLUMNS = [
    "idempotency_key",
    "creditor_id",
    "debtor_id",
    "debt_id",
    "contact_id",
    "segment",
    "cadence",
    "step",
    "template",
    "channel",
    "attempt",
    "day",
    "timezone",
    "at",
    "window_end",
    "status",
    "created_at",
    "updated_at",
]
# ``contact_decisions`` columns a decision not to contact fills.
SKIP_COLUMNS = [
    "creditor_id",
    "debtor_id",
    "debt_id",
    "segment",
    "cadence",
    "step",
    "template",
    "reason",
    "detail",
    "first_day",
    "last_day",
    "days",
    "created_at",
    "updated_at",
]


@dataclass
class ScheduleResult:
    creditor: str
    day: date
    planned: int = 0
    skipped: int = 0


def decisions_table() -> Table:
    """The temporary table the planner's decision rows are written to."""
    return Table(
        "tmp_cadence_decisions",
        MetaData(),
        Column("debt_id", Integer),
        Column("debtor_id", Integer),
        Column("debtor_ext", String(64)),
        Column("debt_ext", String(64)),
        Column("due_date", Date),
        Column("segment", String(64)),
        Column("cadence", String(64)),
        Column("step", Integer),
        Column("template", String(64)),
        Column("contact_id", Integer),
        Column("channel", String(16)),
        Column("zone", String(64)),
        Column("at", DateTime(timezone=True)),
        Column("window_end", DateTime(timezone=True)),
        Column("reason", String(24)),
        Column("detail", String(64)),
        prefixes=["TEMPORARY"],
    )


async def write_day(
    session: AsyncSession, decisions: Select[Any], creditor: str, day: date, clock: Clock
) -> ScheduleResult:
    """Run the decision statement into a temporary table and write contacts and decisions."""
    result = ScheduleResult(creditor, day)
    tmp = decisions_table()
    connection = await session.connection()
    await connection.run_sync(lambda sync: tmp.create(sync))
    try:
        await session.execute(insert(tmp).from_select(list(DECISION_COLUMNS), decisions))
        result.planned = await write_contacts(session, tmp, creditor, day, clock)
        result.skipped = await write_decisions(session, tmp, creditor, day, clock)
    finally:
        await connection.run_sync(lambda sync: tmp.drop(sync))
    return result


def contact_key(tmp: Table, day: date) -> ColumnElement[Any]:
    """``cadence:<debt>:<cadence>:<step>:<day>``, the contact's idempotency key."""
    return (
        literal("cadence:")
        + tmp.c.debt_id.cast(String)
        + literal(":")
        + tmp.c.cadence
        + literal(":")
        + tmp.c.step.cast(String)
        + literal(":" + day.isoformat())
    )


async def write_contacts(session: AsyncSession, tmp: Table, creditor: str, day: date, clock: Clock) -> int:
    """The contacts to make, ``planned``; how many were new."""
    table = table_of(CadenceContact)
    now = clock.now()
    rows = select(
        contact_key(tmp, day),
        literal(creditor),
        tmp.c.debtor_id,
        tmp.c.debt_id,
        tmp.c.contact_id,
        tmp.c.segment,
        tmp.c.cadence,
        tmp.c.step,
        tmp.c.template,
        tmp.c.channel,
        literal(0),
        literal(day, Date),
        tmp.c.zone,
        tmp.c.at,
        tmp.c.window_end,
        literal(CadenceContactStatus.PLANNED.value),
        literal(now, table.c.created_at.type),
        literal(now, table.c.updated_at.type),
    ).where(tmp.c.reason.is_(None))
    statement = (
        upsert_into(session, table)
        .from_select(CONTACT_COLUMNS, rows)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    written = await session.execute(statement)
    return int(getattr(written, "rowcount", 0) or 0)


async def write_decisions(session: AsyncSession, tmp: Table, creditor: str, day: date, clock: Clock) -> int:
    """The decisions not to contact, one row per debt, step and reason; how many today."""
    table = table_of(ContactDecision)
    now = clock.now()
    rows = select(
        literal(creditor),
        tmp.c.debtor_id,
        tmp.c.debt_id,
        tmp.c.segment,
        tmp.c.cadence,
        tmp.c.step,
        tmp.c.template,
        tmp.c.reason,
        tmp.c.detail,
        literal(day, Date),
        literal(day, Date),
        literal(1),
        literal(now, table.c.created_at.type),
        literal(now, table.c.updated_at.type),
    ).where(tmp.c.reason.is_not(None))
    statement = upsert_into(session, table).from_select(SKIP_COLUMNS, rows)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["debt_id", "cadence", "step", "reason"],
        set_={
            "last_day": excluded.last_day,
            "days": table.c.days + 1,
            "detail": excluded.detail,
            "segment": excluded.segment,
            "updated_at": excluded.updated_at,
        },
        where=table.c.last_day < excluded.last_day,
    )
    await session.execute(statement)
    count = await session.scalar(select(func.count()).select_from(tmp).where(tmp.c.reason.is_not(None)))
    return int(count or 0)
