"""Payments follow-up: promises, payment charges (txids), allocations, follow-up events.

Revision ID: 0004_payments
Revises: 0001
Create Date: 2026-01-04 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_payments"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def timestamp(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def money(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Numeric(14, 2), nullable=nullable)


def one_of(column: str, values: Sequence[str]) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=column)


def upgrade() -> None:
    op.create_table(
        "promises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("promised_date", sa.Date(), nullable=False),
        money("amount", nullable=True),
        money("balance"),
        sa.Column("status", sa.String(16), nullable=False),
        timestamp("reminded_at", nullable=True),
        timestamp("resolved_at", nullable=True),
        timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_promises"),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"], name="fk_promises_debtor_id_debtors"),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name="fk_promises_conversation_id_conversations"),
        one_of("status", ("pending", "kept", "broken", "cancelled")),
    )
    op.create_index("ix_promises_debtor_id_status", "promises", ["debtor_id", "status"])
    op.create_index("ix_promises_status_promised_date", "promises", ["status", "promised_date"])
    op.create_table(
        "payment_charges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("txid", sa.String(35), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("installment_id", sa.Integer(), nullable=True),
        sa.Column("promise_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        money("amount"),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("provider_ref", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        timestamp("created_at"),
        timestamp("paid_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_payment_charges"),
        sa.UniqueConstraint("txid", name="uq_payment_charges_txid"),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"], name="fk_payment_charges_debtor_id_debtors"),
        sa.ForeignKeyConstraint(["installment_id"], ["installments.id"],
                                name="fk_payment_charges_installment_id_installments"),
        sa.ForeignKeyConstraint(["promise_id"], ["promises.id"],
                                name="fk_payment_charges_promise_id_promises"),
        one_of("status", ("open", "paid", "cancelled")),
        one_of("method", ("pix", "boleto", "link")),
    )
    op.create_index("ix_payment_charges_debtor_id", "payment_charges", ["debtor_id"])
    op.create_index("ix_payment_charges_installment_id", "payment_charges", ["installment_id"])
    op.create_index("ix_payment_charges_promise_id", "payment_charges", ["promise_id"])
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("installment_id", sa.Integer(), nullable=False),
        money("amount"),
        sa.PrimaryKeyConstraint("id", name="pk_payment_allocations"),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"],
                                name="fk_payment_allocations_payment_id_payments"),
        sa.ForeignKeyConstraint(["installment_id"], ["installments.id"],
                                name="fk_payment_allocations_installment_id_installments"),
    )
    op.create_index("ix_payment_allocations_payment_id", "payment_allocations", ["payment_id"])
    op.create_index("ix_payment_allocations_installment_id", "payment_allocations", ["installment_id"])
    op.create_table(
        "followup_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        timestamp("at"),
        sa.PrimaryKeyConstraint("id", name="pk_followup_events"),
        sa.UniqueConstraint("key", name="uq_followup_events_key"),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"], name="fk_followup_events_debtor_id_debtors"),
    )
    op.create_index("ix_followup_events_debtor_id", "followup_events", ["debtor_id"])


def downgrade() -> None:
    op.drop_table("followup_events")
    op.drop_table("payment_allocations")
    op.drop_table("payment_charges")
    op.drop_table("promises")
