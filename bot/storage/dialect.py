"""Where SQL differs between PostgreSQL and SQLite, in one place (every service asks here)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, Table, update
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

Rows = TypeVar("Rows", bound=Select[Any])


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def is_postgresql(session: AsyncSession) -> bool:
    return dialect_of(session) == "postgresql"


def upsert_into(session: AsyncSession, table: Table) -> Any:
    """An ``INSERT`` with ``ON CONFLICT`` clauses in the session's dialect."""
    return pg.insert(table) if is_postgresql(session) else sqlite.insert(table)


def claimed(session: AsyncSession, query: Rows) -> Rows:
    """``query`` claiming its rows: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent
    workers take different rows (SQLite has one writer at a time anyway)."""
    return query.with_for_update(skip_locked=True) if is_postgresql(session) else query


async def serialize_on(session: AsyncSession, table: Table, row_id: int) -> None:
    """Make concurrent transactions that call this for the same row run one after the other,
    each reading what the previous one committed, from here to its commit.

    A no-op ``UPDATE`` of the row: PostgreSQL locks the row; SQLite takes the database's
    write lock (a second writer waits out the busy timeout). A ``SELECT … FOR UPDATE`` would
    serialize nothing on SQLite, where reads before the first write run outside any
    transaction and two accepts would both find "no agreement yet".
    """
    await session.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))
