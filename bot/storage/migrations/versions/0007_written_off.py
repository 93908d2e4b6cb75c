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

from alembic import op

from bot.storage.migrations.checks import swap_check

revision: str = "0007_written_off"
down_revision: str | Sequence[str] | None = ("0002_channels", "0003", "0005_cadence",
                                              "0006_results_indexes")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = "status IN ('open', 'in_agreement', 'paid', 'disputed')"
AFTER = "status IN ('open', 'in_agreement', 'paid', 'disputed', 'written_off')"


def upgrade() -> None:
    swap_check("debts", "status", BEFORE, AFTER)


def downgrade() -> None:
    op.execute("UPDATE debts SET status = 'open' WHERE status = 'written_off'")
    swap_check("debts", "status", AFTER, BEFORE)
