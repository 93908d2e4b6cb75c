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

from alembic import op

from bot.storage.migrations.checks import swap_check

revision: str = "portal_1"
down_revision: str | Sequence[str] | None = "claims_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("offers", "agreements")
BEFORE = "created_by IN ('bot', 'agent')"
AFTER = "created_by IN ('bot', 'agent', 'portal')"


def upgrade() -> None:
    for table in TABLES:
        swap_check(table, "created_by", BEFORE, AFTER)


def downgrade() -> None:
    op.execute("UPDATE agreements SET created_by = 'bot' WHERE created_by = 'portal'")
    op.execute("UPDATE offers SET created_by = 'bot' WHERE created_by = 'portal'")
    for table in TABLES:
        swap_check(table, "created_by", AFTER, BEFORE)
