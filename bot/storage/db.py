"""Engines, sessions and schema migrations for SQLite and PostgreSQL.

Nothing here runs at import: the composition root calls :func:`create_engine`,
:func:`session_factory` and :func:`migrate` with the configured URL.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from bot.clock import Clock
from bot.storage.types import CLOCK_OPTION

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000
# Any constant will do: it only has to be the same for every process migrating this database.
_MIGRATION_LOCK_ID = 0x4163_6F72_646F  # "Acordo"

_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
}


def async_url(url: str) -> str:
    """The same database URL with the async driver the app uses.

    ``sqlite:///var/acordo.db`` -> ``sqlite+aiosqlite:///var/acordo.db``;
    ``postgresql://...`` and ``postgres://...`` -> ``postgresql+asyncpg://...``.
    A URL that names its driver (``postgresql+psycopg://``) is left alone.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        raise ValueError(f"not a database URL: {url!r}")
    driver = _ASYNC_DRIVERS.get(scheme.lower())
    return f"{driver}://{rest}" if driver else url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or ``None`` for other backends and in-memory SQLite."""
    parsed = make_url(async_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(url: str, *, clock: Clock | None = None, **kwargs: Any) -> AsyncEngine:
    """An :class:`AsyncEngine` for ``url`` (plain or async form), ready for the app.

    ``clock`` is the app's :class:`~bot.clock.Clock`: every timestamp column's default
    (``created_at``, ``updated_at``, an outbox row's ``next_attempt_at``...) reads it, so
    rows carry the same time as the services that write them. An engine made without one
    (migrations, maintenance) refuses to stamp a row (:class:`~bot.storage.types.MissingClock`).

    SQLite: the file's folder is created, and every connection gets WAL journaling,
    enforced foreign keys and a busy timeout, so concurrent requests wait instead of
    failing with "database is locked". PostgreSQL through asyncpg: JIT compilation is off
    for the app's sessions (the régua's set-wise statements are estimated expensive on
    small or fresh tables, and compiling them took 0.5 s each — 40 times the query).
    Extra keyword arguments go to :func:`sqlalchemy.ext.asyncio.create_async_engine`.
    """
    database_url = async_url(url)
    path = sqlite_path(database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
    if parsed.drivername == "postgresql+asyncpg":
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("server_settings", {"jit": "off"})
        kwargs["connect_args"] = connect_args
    if clock is not None:
        options = dict(kwargs.pop("execution_options", {}))
        options[CLOCK_OPTION] = clock
        kwargs["execution_options"] = options
    engine = _create_async_engine(database_url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        event.listen(engine.sync_engine, "savepoint", _begin_before_first_savepoint)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _begin_before_first_savepoint(connection: Connection, _name: str | None) -> None:
    """Make ``session.begin_nested()`` nest inside a real transaction on SQLite.

    The sqlite3 driver starts a transaction only before the first INSERT, UPDATE or
    DELETE. A SAVEPOINT issued before that would itself open the transaction, and
    releasing it would commit: a later rollback could not undo it. Beginning first
    keeps the savepoint nested. (Reads before the first write stay outside any
    transaction, so they always see committed data, as on PostgreSQL.)
    """
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        connection.exec_driver_sql("BEGIN")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (``expire_on_commit=False``)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str | None = None) -> Config:
    """Alembic configured in code (no ``alembic.ini``) for the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        # Alembic's Config is ConfigParser-backed: "%" must be escaped.
        config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    return config


async def migrate(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` up to ``revision`` (``alembic upgrade heads``: every branch).

    Safe to call at every start and from several processes at once: on PostgreSQL
    the upgrade holds an advisory lock, on SQLite an immediate (write) transaction,
    so a second process waits and then finds nothing left to do.
    """
    await _run_alembic(url, command.upgrade, revision)


async def downgrade(url: str, revision: str) -> None:
    """Take the database at ``url`` down to ``revision`` (``"base"``: drop everything)."""
    await _run_alembic(url, command.downgrade, revision)


async def _run_alembic(url: str, alembic_command: Callable[[Config, str], None], revision: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                # pysqlite would otherwise run DDL outside any transaction; take the
                # write lock up front so concurrent starts serialize.
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif engine.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
            await connection.run_sync(_on_connection, alembic_command, alembic_config(url), revision)
            await connection.commit()
    finally:
        await engine.dispose()


def _on_connection(
    connection: Connection,
    alembic_command: Callable[[Config, str], None],
    config: Config,
    revision: str,
) -> None:
    config.attributes["connection"] = connection
    alembic_command(config, revision)


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (``None`` before the first migration)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()


def _current_revision(connection: Connection) -> str | None:
    # Several branches (one per feature) may be applied: their heads, sorted, comma-joined.
    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) if heads else None


def head_revision() -> str | None:
    """The newest revision the packaged migrations know (several heads: sorted, comma-joined)."""
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    return ",".join(sorted(heads)) if heads else None
