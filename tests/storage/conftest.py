"""Fixtures that run the storage tests on SQLite and on PostgreSQL.

``database_url`` is parametrized: ``sqlite`` (a file under pytest's tmp dir) and
``postgresql`` (a fresh database ``acordo_test_<random>`` created on the server at
``ACORDO_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/test``,
and dropped at the end). Both are migrated with :func:`bot.storage.migrate`, so every
run exercises the migrations on both backends. With no PostgreSQL server listening the
PostgreSQL half is skipped, with one line saying what to start; ``ACORDO_REQUIRE_ALL=1``
(CI) makes that a failure (``tests/support/requirements.py``).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.storage import create_engine, migrate, session_factory
from bot.storage.models import Base
from tests.support.requirements import need, postgres_server_url

# The storage suites' "now": rows stamped by the engine's clock carry this moment.
NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def create_postgres_database() -> str:
    """Create ``acordo_test_<random>`` (empty) and return its plain ``postgresql://`` URL.

    No server listening: the test is skipped with one line saying what to start (failed
    under ``ACORDO_REQUIRE_ALL=1``). A server that refuses us fails the test.
    """
    need("postgresql")
    server = postgres_server_url()
    name = f"acordo_test_{secrets.token_hex(6)}"
    try:
        admin = await asyncpg.connect(_asyncpg_dsn(server), timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(
            f"PostgreSQL at {server} refused the connection ({error!r}); point "
            "ACORDO_TEST_POSTGRES_URL at a server with trust auth",
            pytrace=False,
        )
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return _with_database(server, name)


async def drop_postgres_database(url: str) -> None:
    admin = await asyncpg.connect(_asyncpg_dsn(postgres_server_url()), timeout=10)
    try:
        database = make_url(url).database
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file, shared by the session's tests (tables emptied after each)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'acordo.db'}"
    await migrate(url)
    return url


@pytest.fixture(scope="session")
async def postgres_url() -> AsyncIterator[str]:
    """A migrated PostgreSQL database for the session (tables emptied after each test)."""
    url = await create_postgres_database()
    try:
        await migrate(url)
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """A plain (``sqlite:///`` or ``postgresql://``) URL of a migrated, empty database."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


@pytest.fixture
async def empty_database_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> AsyncIterator[str]:
    """A brand-new database with no tables, on the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'nested' / 'dir' / 'empty.db'}"
        return
    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, clock=FixedClock(NOW))
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The app's session factory; every table is emptied after the test."""
    yield session_factory(engine)
    await _empty_tables(engine)


@pytest.fixture
async def session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
def reload(session: AsyncSession) -> Callable[[], Awaitable[None]]:
    """Commit and forget every loaded object, so the next reads come from the database."""

    async def commit_and_forget() -> None:
        await session.commit()
        session.expunge_all()

    return commit_and_forget


async def _empty_tables(engine: AsyncEngine) -> None:
    tables = Base.metadata.sorted_tables
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                await connection.execute(delete(table))
