"""Portal links are stored (hashed) so that they can be revoked and their uses counted.

Revision ID: portal_links_1
Revises: portal_1
Create Date: 2026-12-07 00:00:00+00:00

One new table, ``portal_links``: the SHA-256 of each issued token (never the token), the
debtor and web contact it speaks as, who issued it, its expiry, revocation and uses.
Links issued before this revision were not stored and stop opening (refused as invalid):
issue new ones. Plain ``CREATE TABLE`` on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "portal_links_1"
down_revision: str | Sequence[str] | None = "portal_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "portal_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.String(128), nullable=False),
        _timestamp("issued_at"),
        _timestamp("expires_at"),
        _timestamp("revoked_at", nullable=True),
        sa.Column("revoked_by", sa.String(128), nullable=True),
        _timestamp("last_used_at", nullable=True),
        sa.Column("use_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_links"),
        sa.UniqueConstraint("token_hash", name="uq_portal_links_token_hash"),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"], name="fk_portal_links_debtor_id_debtors"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"],
                                name="fk_portal_links_contact_id_contacts"),
    )
    op.create_index("ix_portal_links_debtor_id_id", "portal_links", ["debtor_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_portal_links_debtor_id_id", table_name="portal_links")
    op.drop_table("portal_links")
