"""A payment reference is unique per creditor, enforced by the database.

Revision ID: money_1
Revises: 0009_results_touch
Create Date: 2026-12-07 00:00:00+00:00

``payments.creditor_id`` copies the debt's creditor so that a unique index on
``(creditor_id, reference)`` can refuse a second payment with a reference the creditor
already used, even when both arrive at once (the service then answers with the first).
Existing rows get their debt's creditor; where a reference was already repeated across two
debts of one creditor, only the oldest payment takes part (the others keep NULL, which a
unique index lets through), so the upgrade never fails on old data. A plain column and an
index: SQLite adds both without rebuilding the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "money_1"
down_revision: str | Sequence[str] | None = "0009_results_touch"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("creditor_id", sa.String(64), nullable=True))
    op.execute("UPDATE payments SET creditor_id = "
               "(SELECT debts.creditor_id FROM debts WHERE debts.id = payments.debt_id)")
    op.execute("UPDATE payments SET creditor_id = NULL WHERE reference IS NOT NULL AND id NOT IN "
               "(SELECT MIN(first.id) FROM payments AS first WHERE first.reference IS NOT NULL "
               "GROUP BY first.creditor_id, first.reference)")
    op.create_index("ix_payments_creditor_id_reference", "payments", ["creditor_id", "reference"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ix_payments_creditor_id_reference", table_name="payments")
    op.drop_column("payments", "creditor_id")  # SQLite 3.35+ drops a plain column in place
