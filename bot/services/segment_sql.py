"""Segment membership as SQL, rendered from the one definition in :mod:`bot.policies.segments`.

The régua's planner and the results dashboard both call :func:`segment_case`; they differ
only in the columns they hand in as the facts (a debt's own due date and principal for the
régua, a debtor's oldest due date and total principal for the dashboard). The debtor's
payment history (``broken_promises``, ``past_days_late``) comes from :func:`debtor_history`,
also shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from bot.policies.models import Segment
from bot.policies.segments import Bound, Fact, bounds, facts_needed
from bot.storage import models as db
from bot.storage.payment_models import Promise, PromiseStatus

BROKEN_PROMISES_LOOKBACK_DAYS = 365

debts: Any = db.Debt.__table__
payments: Any = db.Payment.__table__
promises: Any = Promise.__table__


@dataclass(frozen=True)
class FactColumns:
    """Where each fact comes from in a statement, on ``day``.

    ``days_past_due`` is given as the due date (``due_date <= day - min`` reads an index; no
    date arithmetic per row). A fact left ``None`` may not be asked for.
    """

    day: date
    due_date: ColumnElement[Any]
    balance: ColumnElement[Any] | None = None
    amount: ColumnElement[Any] | None = None
    broken_promises: ColumnElement[Any] | None = None
    past_days_late: ColumnElement[Any] | None = None


def bound_sql(bound: Bound, columns: FactColumns) -> ColumnElement[bool]:
    if bound.fact is Fact.DAYS_PAST_DUE:
        edge = columns.day - timedelta(days=int(bound.value))
        return columns.due_date <= edge if bound.side == "min" else columns.due_date >= edge
    column: ColumnElement[Any] | None = getattr(columns, bound.fact.value)
    if column is None:
        raise ValueError(f"no column for the segment fact {bound.fact.value!r}")
    if bound.fact in (Fact.BROKEN_PROMISES, Fact.PAST_DAYS_LATE):
        column = func.coalesce(column, 0)
    return column >= bound.value if bound.side == "min" else column <= bound.value


def segment_case(
    segments: Sequence[Segment], columns: FactColumns, attribute: str = "name"
) -> ColumnElement[Any]:
    """The first matching segment's ``attribute`` (``name`` or ``cadence``) as one expression.

    A segment without bounds matches everything, so it ends the ``CASE`` (later segments are
    unreachable); a plain value when it is the first (a ``CASE`` needs a ``WHEN``)."""
    branches: list[tuple[ColumnElement[bool], str]] = []
    for segment in segments:
        value = getattr(segment, attribute)
        found = bounds(segment.when)
        if not found:
            return case(*branches, else_=literal(value, String)) if branches else literal(value, String)
        branches.append((and_(true(), *(bound_sql(b, columns) for b in found)), value))
    return case(*branches, else_=literal(getattr(segments[-1], attribute), String))


def needs_history(segments: Sequence[Segment]) -> bool:
    return bool(facts_needed(segments) & {Fact.BROKEN_PROMISES, Fact.PAST_DAYS_LATE})


def days_between(dialect: str, later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[int]:
    """Whole days from the date ``earlier`` to the (UTC) date of the moment ``later``."""
    if dialect == "postgresql":
        return cast(cast(later, Date) - earlier, Integer)
    return cast(func.julianday(func.date(later)) - func.julianday(earlier), Integer)


def debtor_history(dialect: str, day: date) -> Subquery:
    """Per debtor: promises broken in the 365 days up to ``day`` (``broken``) and the most days
    late any paid invoice was paid (``late``: its last payment's date minus its due date, 0 when
    paid on time or early)."""
    broken = (
        select(
            promises.c.debtor_id.label("debtor_id"),
            func.count().label("broken"),
            literal(0).label("late"),
        )
        .where(
            promises.c.status == PromiseStatus.BROKEN.value,
            promises.c.promised_date >= day - timedelta(days=BROKEN_PROMISES_LOOKBACK_DAYS),
        )
        .group_by(promises.c.debtor_id)
    )
    paid_debts = debts.alias("paid_debts")
    last_paid = (
        select(payments.c.debt_id, func.max(payments.c.paid_at).label("paid_at"))
        .group_by(payments.c.debt_id)
        .subquery("last_paid")
    )
    days_late = days_between(dialect, last_paid.c.paid_at, paid_debts.c.due_date)
    late = (
        select(
            paid_debts.c.debtor_id.label("debtor_id"),
            literal(0).label("broken"),
            # Paid on time or early is 0 days late (not a negative count).
            func.max(case((days_late < 0, 0), else_=days_late)).label("late"),
        )
        .select_from(paid_debts.join(last_paid, last_paid.c.debt_id == paid_debts.c.id))
        .where(paid_debts.c.status == db.DebtStatus.PAID.value)
        .group_by(paid_debts.c.debtor_id)
    )
    both = union_all(broken, late).subquery("history_rows")
    return (
        select(both.c.debtor_id, func.sum(both.c.broken).label("broken"), func.max(both.c.late).label("late"))
        .group_by(both.c.debtor_id)
        .subquery("history")
    )
