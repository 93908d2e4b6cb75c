"""One head again, and debts may be written off.

Revision ID: 0007_written_off
Revises: 0002_channels, 0003, 0005_cadence, 0006_results_indexes
Create Date: 2026-11-26 00:00:00+00:00

Merges the feature branches (channels, staff, cadence, payments/results) into one head, and
widens the debts' status check with ``written_off`` (a creditor gave up collecting the
debt; its write-off is an audit event naming who, when and why). On SQLite the check lives
in the table definition and rebuilding the table would trip the foreign keys of every table
that references debts; widening a check changes nothing stored, so the definition is edited
in place, the procedure SQLite's documentation gives for changing CHECK constraints
("ALTER TABLE", section "Making Other Kinds Of Table Schema Changes").
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_written_off"
down_revision: str | Sequence[str] | None = ("0002_channels", "0003", "0005_cadence",
                                              "0006_results_indexes")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "status IN ('open', 'in_agreement', 'paid', 'disputed')"
AFTER = "status IN ('open', 'in_agreement', 'paid', 'disputed', 'written_off')"


def _swap(old: str, new: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_debts_status"), "debts", type_="check")
        op.create_check_constraint(op.f("ck_debts_status"), "debts", new)
        return
    sql = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'debts'")
                       ).scalar_one()
    if f"CHECK ({old})" not in sql:
        raise RuntimeError(f"debts: expected CHECK ({old}) in the table definition")
    version = bind.execute(sa.text("PRAGMA schema_version")).scalar_one()
    bind.execute(sa.text("PRAGMA writable_schema = ON"))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'debts'"),
                 {"sql": sql.replace(f"CHECK ({old})", f"CHECK ({new})")})
    bind.execute(sa.text(f"PRAGMA schema_version = {int(version) + 1}"))
    bind.execute(sa.text("PRAGMA writable_schema = OFF"))
    if bind.execute(sa.text("PRAGMA integrity_check")).scalar_one() != "ok":
        raise RuntimeError("debts: integrity check failed after widening the status check")


def upgrade() -> None:
    _swap(BEFORE, AFTER)


def downgrade() -> None:
    op.execute("UPDATE debts SET status = 'open' WHERE status = 'written_off'")
    _swap(AFTER, BEFORE)
