"""URLs, engines and migrations, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text

from bot.storage import (
    alembic_config,
    async_url,
    create_engine,
    current_revision,
    downgrade,
    head_revision,
    migrate,
)
from bot.storage.models import Base


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/acordo.db", "sqlite+aiosqlite:///var/acordo.db"),
        ("sqlite:////abs/acordo.db", "sqlite+aiosqlite:////abs/acordo.db"),
        ("postgresql://u:p@h:5432/db", "postgresql+asyncpg://u:p@h:5432/db"),
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://h/db", "postgresql+asyncpg://h/db"),
        ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_async_url_picks_the_async_driver(url: str, expected: str) -> None:
    assert async_url(url) == expected


def test_async_url_refuses_what_is_not_a_url() -> None:
    with pytest.raises(ValueError, match="not a database URL"):
        async_url("var/acordo.db")


def test_alembic_needs_no_ini_file() -> None:
    config = alembic_config("postgresql://u:p%40ss@h/db")
    assert config.config_file_name is None
    assert config.get_main_option("sqlalchemy.url") == "postgresql+asyncpg://u:p%40ss@h/db"
    # Head-agnostic: feature branches (0002_channels, 0003_staff, ...) each add a head on 0001.
    heads = (head_revision() or "").split(",")
    assert heads and all(heads)
    assert config.get_main_option("script_location")


async def test_migrate_creates_every_table_and_is_idempotent(database_url: str) -> None:
    await migrate(database_url)  # the fixture already ran it once: nothing left to do
    assert await current_revision(database_url) == head_revision()
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    assert set(tables) == set(Base.metadata.tables) | {"alembic_version"}


async def test_migrations_match_the_models(database_url: str) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": False}
        )
        return list(compare_metadata(context, Base.metadata))

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == []


async def test_concurrent_first_starts_migrate_once(empty_database_url: str) -> None:
    assert await current_revision(empty_database_url) is None
    await asyncio.gather(*(migrate(empty_database_url) for _ in range(3)))
    assert await current_revision(empty_database_url) == head_revision()


async def test_downgrade_to_base_and_up_again(empty_database_url: str) -> None:
    await migrate(empty_database_url)
    await downgrade(empty_database_url, "base")
    assert await current_revision(empty_database_url) is None
    await migrate(empty_database_url)
    assert await current_revision(empty_database_url) == head_revision()


async def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "acordo.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        async with engine.connect() as connection:
            mode = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
            timeout = await connection.scalar(text("PRAGMA busy_timeout"))
    finally:
        await engine.dispose()
    assert path.parent.is_dir()
    assert (mode, foreign_keys) == ("wal", 1)
    assert timeout >= 5000


def test_alembic_commands_work_without_the_app(empty_database_url: str) -> None:
    """``alembic`` used directly (no open connection handed over) migrates too."""
    config = alembic_config(empty_database_url)
    command.upgrade(config, "heads")
    command.check(config)  # the models need no new revision
    command.downgrade(config, "base")


async def test_write_off_migration_keeps_rows_that_reference_debts(empty_database_url: str) -> None:
    """0007 widens the debts' status check on a database that already holds a paid debt."""
    for branch in ("0002_channels", "0003", "0005_cadence", "0006_results_indexes"):
        await migrate(empty_database_url, branch)
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            for statement in (
                "INSERT INTO creditors (id, name, tax_id, created_at) "
                "VALUES ('c', 'C', '1', CURRENT_TIMESTAMP)",
                "INSERT INTO debtors (id, creditor_id, external_id, name, timezone, locale, created_at, "
                "updated_at) VALUES (1, 'c', 'D1', 'D', 'America/Sao_Paulo', 'pt-BR', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)",
                "INSERT INTO debts (id, creditor_id, debtor_id, external_id, amount, currency, due_date, "
                "status, created_at, updated_at) VALUES (1, 'c', 1, 'NF1', 10, 'BRL', '2026-01-01', 'open', "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO payments (debt_id, amount, paid_at, created_at) VALUES (1, 10, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
            ):
                await connection.execute(text(statement))
        await migrate(empty_database_url)
        assert await current_revision(empty_database_url) == head_revision()
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE debts SET status = 'written_off'"))
            assert await connection.scalar(text("SELECT count(*) FROM payments")) == 1
        with pytest.raises(Exception, match="ck_debts_status|CHECK constraint"):
            async with engine.begin() as connection:
                await connection.execute(text("UPDATE debts SET status = 'forgiven'"))
        await downgrade(empty_database_url, "0006_results_indexes")
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT status FROM debts")) == "open"
    finally:
        await engine.dispose()
