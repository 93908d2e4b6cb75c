"""Régua (cadence): contacts planned and made, decisions not to contact, runs.

Revision ID: 0005_cadence
Revises: 0001
Create Date: 2026-01-05 00:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_cadence"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("planned", "queued", "sent", "fell_back", "failed", "cancelled", "expired")


def timestamp(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cadence_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("debt_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        sa.Column("cadence", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        timestamp("at"),
        timestamp("window_end"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_cadence_contacts"),
        sa.UniqueConstraint("idempotency_key", name="uq_cadence_contacts_idempotency_key"),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"], name="fk_cadence_contacts_debtor_id_debtors"),
        sa.ForeignKeyConstraint(["debt_id"], ["debts.id"], name="fk_cadence_contacts_debt_id_debts"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_cadence_contacts_contact_id_contacts"),
        sa.CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in STATUSES) + ")", name="status"),
    )
    op.create_index("ix_cadence_contacts_debt_id_cadence_step", "cadence_contacts",
                    ["debt_id", "cadence", "step"])
    op.create_index("ix_cadence_contacts_debtor_id_day", "cadence_contacts", ["debtor_id", "day"])
    op.create_index("ix_cadence_contacts_day", "cadence_contacts", ["day"])
    op.create_index("ix_cadence_contacts_status_at", "cadence_contacts", ["status", "at"])
    op.create_table(
        "contact_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("debtor_id", sa.Integer(), nullable=False),
        sa.Column("debt_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(64), nullable=False),
        sa.Column("cadence", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("detail", sa.String(64), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_contact_decisions"),
        sa.UniqueConstraint("debt_id", "cadence", "step", "reason",
                            name="uq_contact_decisions_debt_id_cadence_step_reason"),
        sa.ForeignKeyConstraint(["debtor_id"], ["debtors.id"], name="fk_contact_decisions_debtor_id_debtors"),
        sa.ForeignKeyConstraint(["debt_id"], ["debts.id"], name="fk_contact_decisions_debt_id_debts"),
    )
    op.create_index("ix_contact_decisions_creditor_id_last_day", "contact_decisions",
                    ["creditor_id", "last_day"])
    op.create_index("ix_contact_decisions_debtor_id", "contact_decisions", ["debtor_id"])
    op.create_table(
        "cadence_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("creditor_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        timestamp("started_at"),
        timestamp("finished_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cadence_runs"),
    )
    op.create_index("ix_cadence_runs_creditor_id_day", "cadence_runs", ["creditor_id", "day"])


def downgrade() -> None:
    op.drop_table("cadence_runs")
    op.drop_table("contact_decisions")
    op.drop_table("cadence_contacts")
