"""Initial schema: portfolio, conversations, offers, agreements, payments, audit.

Revision ID: 0001
Revises:
Create Date: 2026-01-01 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = ("web", "telegram", "whatsapp", "sms")


def money(name: str, server_default: str | None = None) -> sa.Column[Decimal]:
    return sa.Column(name, sa.Numeric(14, 2), server_default=server_default, nullable=False)


def percent(name: str) -> sa.Column[Decimal]:
    return sa.Column(name, sa.Numeric(5, 2), server_default="0", nullable=False)


def timestamp(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def one_of(column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=column)


def upgrade() -> None:
    op.create_table(
        "creditors",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("tax_id", sa.String(32), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_creditors"),
    )
    op.create_table(
        "debtors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("tax_id", sa.String(32), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_debtors"),
        sa.ForeignKeyConstraint(
            ["creditor_id"], ["creditors.id"], name="fk_debtors_creditor_id_creditors"
        ),
        sa.UniqueConstraint(
            "creditor_id", "external_id", name="uq_debtors_creditor_id_external_id"
        ),
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("locale", sa.String(16), nullable=True),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name="fk_contacts_debtor_id_debtors"
        ),
        sa.UniqueConstraint("channel", "address", name="uq_contacts_channel_address"),
        one_of("channel", CHANNELS),
        one_of("status", ("active", "opted_out", "wrong_person", "unreachable")),
    )
    op.create_index("ix_contacts_debtor_id", "contacts", ["debtor_id"])
    op.create_table(
        "debts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(64), nullable=False),
        money("amount"),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        money("paid_amount", server_default="0"),
        sa.Column("status", sa.String(16), server_default="open", nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_debts"),
        sa.ForeignKeyConstraint(
            ["creditor_id"], ["creditors.id"], name="fk_debts_creditor_id_creditors"
        ),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"], name="fk_debts_debtor_id_debtors"),
        sa.UniqueConstraint("creditor_id", "external_id", name="uq_debts_creditor_id_external_id"),
        one_of("status", ("open", "in_agreement", "paid", "disputed")),
    )
    op.create_index("ix_debts_debtor_id", "debts", ["debtor_id"])
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), server_default="bot", nullable=False),
        sa.Column("negotiation", sa.JSON(), nullable=True),
        sa.Column("fallback_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("handoff_reason", sa.String(255), nullable=True),
        timestamp("last_inbound_at", nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_conversations"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_conversations_contact_id_contacts"
        ),
        sa.UniqueConstraint("public_id", name="uq_conversations_public_id"),
        sa.UniqueConstraint("contact_id", name="uq_conversations_contact_id"),
        one_of("channel", CHANNELS),
        one_of("state", ("bot", "human", "opted_out")),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("author", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("template", sa.String(64), nullable=True),
        sa.Column("template_vars", sa.JSON(), nullable=True),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("provider_id", sa.String(128), nullable=True),
        sa.Column("idempotency_key", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_messages_conversation_id_conversations",
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_messages_idempotency_key"),
        one_of("direction", ("in", "out")),
        one_of("author", ("debtor", "bot", "agent")),
        one_of("channel", CHANNELS),
        one_of(
            "status",
            ("received", "processed", "failed", "queued", "sent", "delivered", "read"),
        ),
    )
    op.create_index("ix_messages_conversation_id_id", "messages", ["conversation_id", "id"])
    op.create_index("ix_messages_provider_id", "messages", ["provider_id"])
    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        money("balance"),
        money("total"),
        percent("discount_percent"),
        percent("monthly_interest_percent"),
        sa.Column("installments", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), server_default="proposed", nullable=False),
        sa.Column("created_by", sa.String(8), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_offers"),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_offers_conversation_id_conversations",
        ),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"], name="fk_offers_debtor_id_debtors"),
        one_of("kind", ("full_payment", "installments")),
        one_of("status", ("proposed", "accepted", "refused", "superseded")),
        one_of("created_by", ("bot", "agent")),
    )
    op.create_index("ix_offers_conversation_id_id", "offers", ["conversation_id", "id"])
    op.create_index("ix_offers_debtor_id", "offers", ["debtor_id"])
    op.create_table(
        "agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        money("total"),
        percent("discount_percent"),
        sa.Column("status", sa.String(16), server_default="active", nullable=False),
        sa.Column("created_by", sa.String(8), nullable=False),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_agreements"),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name="fk_agreements_debtor_id_debtors"
        ),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name="fk_agreements_offer_id_offers"),
        one_of("kind", ("full_payment", "installments")),
        one_of("status", ("active", "kept", "broken", "cancelled")),
        one_of("created_by", ("bot", "agent")),
    )
    op.create_index("ix_agreements_debtor_id", "agreements", ["debtor_id"])
    op.create_table(
        "agreement_debts",
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("debt_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", "debt_id", name="pk_agreement_debts"),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name="fk_agreement_debts_agreement_id_agreements",
        ),
        sa.ForeignKeyConstraint(
            ["debt_id"], ["debts.id"], name="fk_agreement_debts_debt_id_debts"
        ),
    )
    op.create_index("ix_agreement_debts_debt_id", "agreement_debts", ["debt_id"])
    op.create_table(
        "installments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        money("amount"),
        money("paid_amount", server_default="0"),
        sa.Column("status", sa.String(8), server_default="open", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_installments"),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name="fk_installments_agreement_id_agreements",
        ),
        sa.UniqueConstraint("agreement_id", "number", name="uq_installments_agreement_id_number"),
        one_of("status", ("open", "paid", "late")),
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debt_id", sa.Integer(), nullable=False),
        money("amount"),
        timestamp("paid_at"),
        sa.Column("reference", sa.String(128), nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_payments"),
        sa.ForeignKeyConstraint(["debt_id"], ["debts.id"], name="fk_payments_debt_id_debts"),
        sa.UniqueConstraint("debt_id", "reference", name="uq_payments_debt_id_reference"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        timestamp("at"),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name="fk_audit_events_debtor_id_debtors"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name="fk_audit_events_conversation_id_conversations",
        ),
    )
    op.create_index("ix_audit_events_debtor_id_id", "audit_events", ["debtor_id", "id"])


def downgrade() -> None:
    for table in (
        "audit_events",
        "payments",
        "installments",
        "agreement_debts",
        "agreements",
        "offers",
        "messages",
        "conversations",
        "debts",
        "contacts",
        "debtors",
        "creditors",
    ):
        op.drop_table(table)
