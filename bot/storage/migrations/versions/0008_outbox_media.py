"""Outbox rows may carry a picture (the PIX QR code of payment instructions).

Revision ID: 0008_outbox_media
Revises: 0007_written_off
Create Date: 2026-11-27 00:00:00+00:00

Two nullable columns on ``outbox``: ``media_kind`` and ``media_ref`` name the picture
(``pix_qr`` and the charge's txid), which the dispatcher rebuilds from the stored charge
when it sends the row, so a queued picture survives a restart. Adding a nullable column
is a plain ``ALTER TABLE`` on SQLite too; dropping one needs SQLite 3.35 or later.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_outbox_media"
down_revision: str | Sequence[str] | None = "0007_written_off"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("media_kind", sa.String(length=16), nullable=True))
    op.add_column("outbox", sa.Column("media_ref", sa.String(length=128), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "media_ref")
    op.drop_column("outbox", "media_kind")
