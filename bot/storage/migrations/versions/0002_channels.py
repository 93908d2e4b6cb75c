"""Messaging channels: outbox (outbound queue), inbound updates, Telegram link tokens.

Revision ID: 0002_channels
Revises: 0001
Create Date: 2026-01-02 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_channels"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def timestamp(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def one_of(column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=column)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("template", sa.String(64), nullable=True),
        sa.Column("template_vars", sa.JSON(), nullable=True),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("initiated_by", sa.String(8), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        timestamp("next_attempt_at"),
        timestamp("lease_until", nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("provider_id", sa.String(128), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("encoding", sa.String(8), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        timestamp("sent_at", nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_outbox_contact_id_contacts"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name="fk_outbox_message_id_messages"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
        one_of("status", ("pending", "sending", "sent", "delivered", "read", "failed", "cancelled")),
        one_of("initiated_by", ("reply", "bot")),
    )
    op.create_index("ix_outbox_status_next_attempt_at", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_channel_address_id", "outbox", ["channel", "address", "id"])
    op.create_index("ix_outbox_contact_id", "outbox", ["contact_id"])
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])
    op.create_index("ix_outbox_provider_id", "outbox", ["provider_id"])

    op.create_table(
        "inbound_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider_key", sa.String(128), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        timestamp("lease_until", nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        timestamp("created_at"),
        timestamp("processed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_updates"),
        sa.UniqueConstraint("channel", "provider_key", name="uq_inbound_updates_channel_provider_key"),
        one_of("status", ("received", "processing", "processed", "failed")),
    )
    op.create_index("ix_inbound_updates_status_id", "inbound_updates", ["status", "id"])

    op.create_table(
        "telegram_link_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("contact_name", sa.String(255), nullable=False),
        sa.Column("locale", sa.String(16), nullable=True),
        timestamp("expires_at"),
        timestamp("used_at", nullable=True),
        sa.Column("chat_id", sa.String(64), nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_telegram_link_tokens"),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"],
                                name="fk_telegram_link_tokens_debtor_id_debtors"),
        sa.UniqueConstraint("token_hash", name="uq_telegram_link_tokens_token_hash"),
    )
    op.create_index("ix_telegram_link_tokens_debtor_id", "telegram_link_tokens", ["debtor_id"])


def downgrade() -> None:
    op.drop_table("telegram_link_tokens")
    op.drop_table("inbound_updates")
    op.drop_table("outbox")
