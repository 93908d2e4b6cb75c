"""Payment claims: what a debtor says about a payment made, and its receipts.

Revision ID: claims_1
Revises: regua_1
Create Date: 2026-12-07 00:00:00+00:00

Two new tables, ``payment_claims`` (``pending`` until an agent confirms or rejects it) and
``payment_claim_attachments`` (a receipt's type, size and bytes or storage path). Nothing
existing changes: plain ``CREATE TABLE`` on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "claims_1"
down_revision: str | Sequence[str] | None = "regua_1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _money(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Numeric(14, 2), nullable=True)


def upgrade() -> None:
    op.create_table(
        "payment_claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _money("amount"),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(128), nullable=True),
        sa.Column("bank", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        _timestamp("resolved_at", nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        _money("payment_amount"),
        sa.PrimaryKeyConstraint("id", name="pk_payment_claims"),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"],
                                name="fk_payment_claims_debtor_id_debtors"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name="fk_payment_claims_conversation_id_conversations"),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'rejected')",
                           name="ck_payment_claims_status"),
    )
    op.create_index("ix_payment_claims_debtor_id_status", "payment_claims", ["debtor_id", "status"])
    op.create_index("ix_payment_claims_status_created_at", "payment_claims",
                    ["status", "created_at"])
    op.create_table(
        "payment_claim_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("storage_path", sa.String(512), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_payment_claim_attachments"),
        sa.ForeignKeyConstraint(["claim_id"], ["payment_claims.id"],
                                name="fk_payment_claim_attachments_claim_id_payment_claims"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"],
                                name="fk_payment_claim_attachments_message_id_messages"),
    )
    op.create_index("ix_payment_claim_attachments_claim_id", "payment_claim_attachments",
                    ["claim_id"])


def downgrade() -> None:
    op.drop_index("ix_payment_claim_attachments_claim_id", table_name="payment_claim_attachments")
    op.drop_table("payment_claim_attachments")
    op.drop_index("ix_payment_claims_status_created_at", table_name="payment_claims")
    op.drop_index("ix_payment_claims_debtor_id_status", table_name="payment_claims")
    op.drop_table("payment_claims")
