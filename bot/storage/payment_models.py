"""Tables of payments follow-up: promises to pay, payment charges (txids), allocations, follow-ups.

Kept apart from :mod:`bot.storage.models` (same ``Base`` and naming convention) so the
payments feature ships its own migration (``0004_payments``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import AuditEvent, Base, Contact, Debt, Message, Payment, one_of
from bot.storage.types import Money, UTCDateTime, clock_now


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"  # superseded by a newer promise or an agreement


class ChargeStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELLED = "cancelled"


class PaymentMethod(StrEnum):
    PIX = "pix"
    BOLETO = "boleto"
    LINK = "link"


class Promise(Base):
    """A debtor's promise to pay on ``promised_date`` (``amount`` when they said one)."""

    __tablename__ = "promises"
    __table_args__ = (Index(None, "debtor_id", "status"), Index(None, "status", "promised_date"),
                      one_of("status", PromiseStatus))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    promised_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Money())
    balance: Mapped[Decimal] = mapped_column(Money())  # the debtor's balance when promised
    status: Mapped[str] = mapped_column(String(16), default=PromiseStatus.PENDING.value)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)

    @property
    def target(self) -> Decimal:
        return self.amount if self.amount is not None else self.balance


class PaymentCharge(Base):
    """How to pay one installment or promise: a PIX txid and "copia e cola", a boleto, a link."""

    __tablename__ = "payment_charges"
    __table_args__ = (one_of("status", ChargeStatus), one_of("method", PaymentMethod))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    txid: Mapped[str] = mapped_column(String(35), unique=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    installment_id: Mapped[int | None] = mapped_column(ForeignKey("installments.id"), index=True)
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promises.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Money())
    due_date: Mapped[date] = mapped_column(Date)
    payload: Mapped[str] = mapped_column(Text)  # copia e cola, digitable line or URL
    provider_ref: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=ChargeStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PaymentAllocation(Base):
    """The part of a payment that went to an installment (oldest installment first)."""

    __tablename__ = "payment_allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("installments.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())


class FollowUpEvent(Base):
    """One follow-up done (``key`` like ``installment:12:remind``): a re-run does nothing twice."""

    __tablename__ = "followup_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


# Indexes of the results dashboard (migration 0006_results_indexes, bot/services/results/queries.py):
# a period's outbound messages with every column the figures group by (index-only scans),
# the first hand-off of each debtor, a period's payments.
Index("ix_messages_out_created_at", Message.created_at,
      postgresql_include=["conversation_id", "channel", "template", "author"],
      postgresql_where=text("direction = 'out'"), sqlite_where=text("direction = 'out'"))
Index("ix_audit_events_handoff_debtor_id", AuditEvent.debtor_id, AuditEvent.at,
      postgresql_where=text("kind = 'handoff'"), sqlite_where=text("kind = 'handoff'"))
Index("ix_payments_paid_at", Payment.paid_at, postgresql_include=["debt_id", "amount"])
# Migration 0009_results_touch: the last templated message of a conversation before a moment
# (an outcome's last touch), and the per-debtor pass over the debts and first contacts
# read from indexes alone, in debtor order.
Index("ix_messages_touch", Message.conversation_id, Message.created_at,
      postgresql_include=["template", "channel", "id"],
      postgresql_where=text("direction = 'out' AND template IS NOT NULL"),
      sqlite_where=text("direction = 'out' AND template IS NOT NULL"))
Index("ix_debts_creditor_debtor", Debt.creditor_id, Debt.debtor_id,
      postgresql_include=["due_date", "amount", "paid_amount", "status"])
Index("ix_contacts_debtor_first", Contact.debtor_id, Contact.id, postgresql_include=["channel"])
