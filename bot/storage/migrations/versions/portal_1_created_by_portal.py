"""Offers and agreements may be created by the debtor's portal page.

Revision ID: portal_1
Revises: claims_1
Create Date: 2026-12-07 00:00:00+00:00

Widens the ``created_by`` checks of ``offers`` and ``agreements`` with ``portal`` (an
agreement the debtor accepted on the portal page, ``/p/{token}``). On SQLite the check lives
in the table definition and is edited in place, as in ``0007_written_off`` (rebuilding
the table would trip the foreign keys that reference it); nothing stored changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "portal_1"
down_revision: str | Sequence[str] | None = "claims_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("offers", "agreements")
BEFORE = "created_by IN ('bot', 'agent')"
AFTER = "created_by IN ('bot', 'agent', 'portal')"


def _swap(table: str, old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f(f"ck_{table}_created_by"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_created_by"), table, new)
        return
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                       {"t": table}).scalar_one()
    if f"CHECK ({old})" not in sql:
        raise RuntimeError(f"{table}: expected CHECK ({old}) in the table definition")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = :t"),
                 {"sql": sql.replace(f"CHECK ({old})", f"CHECK ({new})"), "t": table})
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    if bind.execute(sa.text("PRAGMA integrity_check")).scalar_one() != "ok":
        raise RuntimeError(f"{table}: integrity check failed after widening created_by")


def upgrade() -> None:
    for table in TABLES:
        _swap(table, BEFORE, AFTER)


def downgrade() -> None:
    op.execute("UPDATE agreements SET created_by = 'bot' WHERE created_by = 'portal'")
    op.execute("UPDATE offers SET created_by = 'bot' WHERE created_by = 'portal'")
    for table in TABLES:
        _swap(table, AFTER, BEFORE)
