"""Outbox rows may carry the end of their contact window (``not_after``).

Revision ID: regua_1
Revises: 0009_results_touch
Create Date: 2026-12-07 00:00:00+00:00

A régua reminder is queued with the end of the debtor's contact window; the dispatcher
never sends it at or after that moment (it is withdrawn as ``outside_hours`` and the régua
plans it again on the next allowed day). One nullable column: a plain ``ALTER TABLE`` on
SQLite too.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "regua_1"
down_revision: str | Sequence[str] | None = "money_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("not_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "not_after")
