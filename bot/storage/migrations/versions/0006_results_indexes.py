"""Results dashboard indexes: outbound messages by time, hand-offs by debtor, payments by time.

Revision ID: 0006_results_indexes
Revises: 0004_payments
Create Date: 2026-01-06 00:00:00+00:00

Set-based dashboard queries (``bot/services/results/queries.py``) read a period of outbound messages
from a partial index that covers every column they group by (an index-only scan instead of
a scan of every message), the first hand-off of each debtor from a partial index, and the
period's payments from an index on ``paid_at``. Declared on the models in
``bot/storage/payment_models.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_results_indexes"
down_revision: str | Sequence[str] | None = "0004_payments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_messages_out_created_at", "messages", ["created_at"],
                    postgresql_include=["conversation_id", "channel", "template", "author"],
                    postgresql_where=sa.text("direction = 'out'"), sqlite_where=sa.text("direction = 'out'"))
    op.create_index("ix_audit_events_handoff_debtor_id", "audit_events", ["debtor_id", "at"],
                    postgresql_where=sa.text("kind = 'handoff'"), sqlite_where=sa.text("kind = 'handoff'"))
    op.create_index("ix_payments_paid_at", "payments", ["paid_at"],
                    postgresql_include=["debt_id", "amount"])


def downgrade() -> None:
    op.drop_index("ix_payments_paid_at", table_name="payments")
    op.drop_index("ix_audit_events_handoff_debtor_id", table_name="audit_events")
    op.drop_index("ix_messages_out_created_at", table_name="messages")
