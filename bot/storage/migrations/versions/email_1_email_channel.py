"""E-mail becomes a channel: contacts, conversations and messages may be on ``email``.

Revision ID: email_1
Revises: portal_links_1
Create Date: 2026-12-07 00:00:00+00:00

Widens the ``channel`` checks of ``contacts``, ``conversations`` and ``messages`` with
``email`` (``bot/storage/migrations/checks.py``: edited in place on SQLite). Nothing stored
changes; a downgrade refuses while e-mail contacts exist rather than delete them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.storage.migrations.checks import swap_check

revision: str = "email_1"
down_revision: str | Sequence[str] | None = "portal_links_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contacts", "conversations", "messages")
BEFORE = "channel IN ('web', 'telegram', 'whatsapp', 'sms')"
AFTER = "channel IN ('web', 'telegram', 'whatsapp', 'sms', 'email')"


def upgrade() -> None:
    for table in TABLES:
        swap_check(table, "channel", BEFORE, AFTER)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT COUNT(*) FROM contacts WHERE channel = 'email'")).scalar_one():
        raise RuntimeError("e-mail contacts exist: remove them before downgrading below email_1")
    for table in TABLES:
        swap_check(table, "channel", AFTER, BEFORE)
