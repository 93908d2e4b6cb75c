"""Results dashboard: last-touch attribution and the per-debtor pass from indexes alone.

Revision ID: 0009_results_touch
Revises: 0008_outbox_media
Create Date: 2026-11-26 00:00:00+00:00

- ``ix_messages_touch``: each payment and agreement of a period is credited to the debtor's
  last templated outbound message before it (``bot/services/results/queries.py`` ``TOUCH_SQL``): one
  short backward index-only probe per outcome;
- ``ix_debts_creditor_debtor`` (PostgreSQL: INCLUDE due date, amount, paid amount, status) and
  ``ix_contacts_debtor_first`` (INCLUDE channel): the per-debtor table (segment, first-contact
  channel, overdue) reads both in debtor order, a merge instead of two hash aggregates.

Declared on the models in ``bot/storage/payment_models.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_results_touch"
down_revision: str | Sequence[str] | None = "0008_outbox_media"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    touched = sa.text("direction = 'out' AND template IS NOT NULL")
    op.create_index("ix_messages_touch", "messages", ["conversation_id", "created_at"],
                    postgresql_include=["template", "channel", "id"], postgresql_where=touched, sqlite_where=touched)
    op.create_index("ix_debts_creditor_debtor", "debts", ["creditor_id", "debtor_id"],
                    postgresql_include=["due_date", "amount", "paid_amount", "status"])
    op.create_index("ix_contacts_debtor_first", "contacts", ["debtor_id", "id"],
                    postgresql_include=["channel"])


def downgrade() -> None:
    op.drop_index("ix_contacts_debtor_first", table_name="contacts")
    op.drop_index("ix_debts_creditor_debtor", table_name="debts")
    op.drop_index("ix_messages_touch", table_name="messages")
