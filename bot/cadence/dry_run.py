"""``acordo policies check``'s dry run: can the statements built from a policy run at all?

A policy can be valid by its schema and still produce SQL a database refuses (a one-segment
policy once produced ``CASE ELSE .. END``). Before the policy reaches a worker, the régua's
decision statement and the dashboard's segment table are built for it and run against an
empty in-memory SQLite database (the app's tables, no rows), and the statement is compiled
for PostgreSQL too. Nothing is written anywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from bot.cadence.plan import DuePlanner, PlanRequest
from bot.contact_rules import ZoneDay
from bot.policies.models import CHANNEL_NAMES, Policy
from bot.services.results.queries import DebtorSegments, segment_table_sql
from bot.storage.models import Base

CHANNELS = CHANNEL_NAMES


def dry_run(policy: Policy, day: date, channels: Iterable[str] = CHANNELS) -> list[str]:
    """The problems of running this policy's statements on ``day`` (empty when it plans)."""
    zone = policy.creditor.timezone
    opens = datetime.combine(day, time(8), tzinfo=ZoneInfo(zone)).astimezone(UTC)
    zones = {zone: ZoneDay(zone, opens, None, opens + timedelta(hours=8))}
    request = PlanRequest(policy.id or "check", policy, day, frozenset(channels))
    problems: list[str] = []
    engine = create_engine("sqlite://", poolclass=StaticPool)
    try:
        Base.metadata.create_all(engine)
        with engine.connect() as connection:
            try:
                _plan(connection, request, zones, opens)
            except SQLAlchemyError as error:
                problems.append(f"the régua's plan cannot run: {_first_line(error)}")
            try:
                _segments(connection, policy, day)
            except SQLAlchemyError as error:
                problems.append(f"the dashboard's segments cannot run: {_first_line(error)}")
    finally:
        engine.dispose()
    return problems


def _plan(connection: Connection, request: PlanRequest, zones: dict[str, ZoneDay], now: datetime) -> None:
    statement = DuePlanner("sqlite").decisions(request, zones, now, now)
    if statement is None:  # no régua: nothing to plan
        return
    connection.execute(statement).all()
    for_postgresql = DuePlanner("postgresql").decisions(request, zones, now, now)
    if for_postgresql is not None:
        for_postgresql.compile(dialect=postgresql.dialect())  # type: ignore[no-untyped-call]


def _segments(connection: Connection, policy: Policy, day: date) -> None:
    sql = segment_table_sql(DebtorSegments(policy, day), "sqlite", "policy_check_segments")
    connection.execute(text(sql), {"end_date": day, "creditor": policy.id or "check"})
    connection.execute(text("DROP TABLE temp.policy_check_segments"))


def _first_line(error: SQLAlchemyError) -> str:
    """The database's own message, without the statement and its parameters."""
    original = getattr(error, "orig", None)
    message = str(original if original is not None else error)
    return message.splitlines()[0][:200]
