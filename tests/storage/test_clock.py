"""Rows carry the injected clock's time: every timestamp default reads the engine's clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock, SteppingClock
from bot.storage import create_engine, session_factory
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage
from bot.storage.channel_repositories import OutboxRepository
from bot.storage.models import Base
from bot.storage.types import MissingClock, UTCDateTime, clock_now
from tests.conftest import ROOT
from tests.storage import factories

LONG_AGO = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


def test_every_timestamp_default_is_the_engines_clock_and_none_is_the_servers() -> None:
    """No column takes its time from the database server or from Python's wall clock."""
    stamped = []
    for table in Base.metadata.tables.values():
        for column in table.columns:
            server = column.server_default
            if server is not None:
                text = str(getattr(server, "arg", server)).lower()
                assert "now" not in text and "current_" not in text, f"{table.name}.{column.name}"
            if isinstance(column.type, UTCDateTime):
                for default in (column.default, column.onupdate):
                    if default is not None:
                        assert default.is_callable, f"{table.name}.{column.name}"
                        # SQLAlchemy wraps a one-argument default to pass it the context.
                        assert default.arg.__name__ == clock_now.__name__, f"{table.name}.{column.name}"
                        stamped.append(f"{table.name}.{column.name}")
    assert "messages.created_at" in stamped and "outbox.next_attempt_at" in stamped


async def test_rows_and_updates_are_stamped_by_the_engines_clock(
        database_url: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    """(``sessions``: the shared database is emptied after the test.)"""
    clock = SteppingClock(LONG_AGO)
    engine = create_engine(database_url, clock=clock)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            owner = await factories.debtor(session, external_id="clock-1")
            debt = await factories.debt(session, owner, "NF-CLOCK", "10.00")
            row = await OutboxRepository(session).enqueue(
                channel="telegram", address="1", text="oi", idempotency_key="clock-1")
            await session.commit()
            assert owner.created_at == debt.created_at == LONG_AGO
            assert row.next_attempt_at == row.created_at == LONG_AGO
            clock.advance(60)
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                                  .values(attempts=1))
            debt.paid_amount = Decimal("1.00")
            await session.commit()
        async with sessions() as session:
            stored = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == row.id))
            stored_debt = await session.get(db.Debt, debt.id)
        assert stored is not None and stored.updated_at == datetime(2001, 2, 3, 4, 6, 6, tzinfo=UTC)
        assert stored.next_attempt_at == LONG_AGO
        assert stored_debt is not None and stored_debt.updated_at == datetime(2001, 2, 3, 4, 6, 6, tzinfo=UTC)
    finally:
        await engine.dispose()


async def test_an_engine_without_a_clock_refuses_to_invent_a_time(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            session.add(db.Creditor(id="no-clock", name="X", tax_id="11.222.333/0001-81"))
            with pytest.raises(StatementError, match="has no clock") as raised:
                await session.flush()
            assert isinstance(raised.value.orig, MissingClock)
            await session.rollback()
    finally:
        await engine.dispose()


def test_fixed_and_stepping_clocks_need_aware_moments() -> None:
    with pytest.raises(ValueError):
        FixedClock(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError):
        SteppingClock(datetime(2026, 1, 1))  # noqa: DTZ001


SERVER_CLOCK = re.compile(
    r"(?<![.\w])now\(\)|\b(CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME|LOCALTIMESTAMP|LOCALTIME"
    r"|clock_timestamp|statement_timestamp|transaction_timestamp)\b", re.IGNORECASE)


def test_no_statement_reads_the_database_servers_clock() -> None:
    """SQL written in bot/ (migrations included) takes its times as parameters from the clock."""
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in sorted((ROOT / "bot").rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), start=1)
             if SERVER_CLOCK.search(line)]
    assert found == []
