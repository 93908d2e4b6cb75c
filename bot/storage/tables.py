"""The Core tables that set-wise statements are written against.

The ORM classes are the schema (one metadata for Alembic); the régua's planner, scheduler
and sweep, the bulk portfolio writer and the segment SQL read their ``Table`` objects here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from bot.storage import models as db
from bot.storage.cadence_models import CadenceContact
from bot.storage.claim_models import PaymentClaim
from bot.storage.payment_models import FollowUpEvent, Promise


def table_of(model: type[Any]) -> Table:
    table: Table = model.__table__
    return table


debts = table_of(db.Debt)
debtors = table_of(db.Debtor)
contacts = table_of(db.Contact)
agreements = table_of(db.Agreement)
conversations = table_of(db.Conversation)
audit = table_of(db.AuditEvent)
payments = table_of(db.Payment)
promises = table_of(Promise)
cc = table_of(CadenceContact)
followups = table_of(FollowUpEvent)
claims = table_of(PaymentClaim)
