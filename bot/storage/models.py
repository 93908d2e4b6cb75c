"""Tables of Acordo's database, as SQLAlchemy 2 typed declarative models.

Money columns are :class:`~bot.storage.types.Money` (``NUMERIC(14, 2)``, ``Decimal``),
timestamps :class:`~bot.storage.types.UTCDateTime` (aware UTC), JSON columns
:class:`~bot.storage.types.JSONData`. Enumerated columns are plain strings guarded by
CHECK constraints; the allowed values are the ``StrEnum`` classes below. The schema is
created by the Alembic migrations in ``bot/storage/migrations`` (keep both in step).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.storage.types import JSONData, Money, Percent, UTCDateTime, clock_now

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Channel(StrEnum):
    WEB = "web"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"


class ContactStatus(StrEnum):
    ACTIVE = "active"
    OPTED_OUT = "opted_out"
    WRONG_PERSON = "wrong_person"
    UNREACHABLE = "unreachable"


class DebtStatus(StrEnum):
    OPEN = "open"
    IN_AGREEMENT = "in_agreement"
    PAID = "paid"
    DISPUTED = "disputed"
    WRITTEN_OFF = "written_off"


class ConversationState(StrEnum):
    BOT = "bot"
    HUMAN = "human"
    OPTED_OUT = "opted_out"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class Author(StrEnum):
    DEBTOR = "debtor"
    BOT = "bot"
    AGENT = "agent"


class MessageStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"


class OfferKind(StrEnum):
    FULL_PAYMENT = "full_payment"
    INSTALLMENTS = "installments"


class OfferStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    SUPERSEDED = "superseded"


class CreatedBy(StrEnum):
    BOT = "bot"
    AGENT = "agent"
    PORTAL = "portal"  # accepted on the debtor's portal page (/p/{token})


class AgreementStatus(StrEnum):
    ACTIVE = "active"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class InstallmentStatus(StrEnum):
    OPEN = "open"
    PAID = "paid"
    LATE = "late"


ZERO = Decimal("0.00")


def new_public_id() -> str:
    return uuid.uuid4().hex


def one_of(column: str, values: type[StrEnum]) -> CheckConstraint:
    """``CHECK (column IN (...))`` named ``ck_<table>_<column>``."""
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _state_column(length: int, default: StrEnum) -> Mapped[str]:
    return mapped_column(String(length), default=default.value, server_default=default.value)


def _created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=clock_now)


def _updated_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), default=clock_now, onupdate=clock_now)


class Creditor(Base):
    """The company owed the money; its id is its policy file's stem (``demo``)."""

    __tablename__ = "creditors"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    tax_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = _created_at()


class Debtor(Base):
    """A company that owes a creditor, known to it by ``external_id``."""

    __tablename__ = "debtors"
    __table_args__ = (UniqueConstraint("creditor_id", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("creditors.id"))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    tax_id: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    creditor: Mapped[Creditor] = relationship()
    contacts: Mapped[list[Contact]] = relationship(back_populates="debtor", order_by="Contact.id")
    debts: Mapped[list[Debt]] = relationship(back_populates="debtor", order_by="Debt.id")


class Contact(Base):
    """A person at the debtor reachable on one channel address (phone, chat id, web id)."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("channel", "address"),
        one_of("channel", Channel),
        one_of("status", ContactStatus),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = _state_column(16, ContactStatus.ACTIVE)
    created_at: Mapped[datetime] = _created_at()

    debtor: Mapped[Debtor] = relationship(back_populates="contacts")


class Debt(Base):
    """One invoice (or other title) a debtor owes, known to the creditor by ``external_id``."""

    __tablename__ = "debts"
    __table_args__ = (
        UniqueConstraint("creditor_id", "external_id"),
        one_of("status", DebtStatus),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creditor_id: Mapped[str] = mapped_column(ForeignKey("creditors.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3))
    due_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    paid_amount: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    status: Mapped[str] = _state_column(16, DebtStatus.OPEN)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    debtor: Mapped[Debtor] = relationship(back_populates="debts")
    payments: Mapped[list[Payment]] = relationship(back_populates="debt", order_by="Payment.id")

    @property
    def unpaid_amount(self) -> Decimal:
        """Face amount less what was paid, never below zero (interest is not included)."""
        return max(self.amount - self.paid_amount, ZERO)


class Conversation(Base):
    """The one conversation with a contact; ``public_id`` is safe to show in URLs."""

    __tablename__ = "conversations"
    __table_args__ = (
        one_of("channel", Channel),
        one_of("state", ConversationState),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = _state_column(16, ConversationState.BOT)
    negotiation: Mapped[dict[str, Any] | None] = mapped_column(JSONData())
    fallback_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    handoff_reason: Mapped[str | None] = mapped_column(String(255))
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    contact: Mapped[Contact] = relationship()
    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.id")


class Message(Base):
    """One message in or out; ``idempotency_key`` dedupes provider retries."""

    __tablename__ = "messages"
    __table_args__ = (
        Index(None, "conversation_id", "id"),
        one_of("direction", Direction),
        one_of("author", Author),
        one_of("channel", Channel),
        one_of("status", MessageStatus),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[str] = mapped_column(String(8))
    author: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    template: Mapped[str | None] = mapped_column(String(64))
    template_vars: Mapped[dict[str, Any] | None] = mapped_column(JSONData())
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONData())
    provider_id: Mapped[str | None] = mapped_column(String(128), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    conversation: Mapped[Conversation] = relationship(back_populates="messages")


class Offer(Base):
    """Terms put to the debtor; ``installments`` is ``[{number, due_date, amount}]``."""

    __tablename__ = "offers"
    __table_args__ = (
        Index(None, "conversation_id", "id"),
        one_of("kind", OfferKind),
        one_of("status", OfferStatus),
        one_of("created_by", CreatedBy),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    balance: Mapped[Decimal] = mapped_column(Money())
    total: Mapped[Decimal] = mapped_column(Money())
    discount_percent: Mapped[Decimal] = mapped_column(Percent(), default=ZERO, server_default="0")
    monthly_interest_percent: Mapped[Decimal] = mapped_column(Percent(), default=ZERO, server_default="0")
    installments: Mapped[list[dict[str, Any]]] = mapped_column(JSONData())
    status: Mapped[str] = _state_column(16, OfferStatus.PROPOSED)
    created_by: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = _created_at()


agreement_debts = Table(
    "agreement_debts",
    Base.metadata,
    Column("agreement_id", ForeignKey("agreements.id"), primary_key=True),
    Column("debt_id", ForeignKey("debts.id"), primary_key=True, index=True),
)


class Agreement(Base):
    """An accepted offer: the debts it settles and the installments due."""

    __tablename__ = "agreements"
    __table_args__ = (
        one_of("kind", OfferKind),
        one_of("status", AgreementStatus),
        one_of("created_by", CreatedBy),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    kind: Mapped[str] = mapped_column(String(16))
    total: Mapped[Decimal] = mapped_column(Money())
    discount_percent: Mapped[Decimal] = mapped_column(Percent(), default=ZERO, server_default="0")
    status: Mapped[str] = _state_column(16, AgreementStatus.ACTIVE)
    created_by: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = _created_at()

    installments: Mapped[list[Installment]] = relationship(
        back_populates="agreement", order_by="Installment.number"
    )
    debts: Mapped[list[Debt]] = relationship(secondary=agreement_debts, order_by="Debt.id")


class Installment(Base):
    """One payment of an agreement (a full payment agreement has exactly one)."""

    __tablename__ = "installments"
    __table_args__ = (
        UniqueConstraint("agreement_id", "number"),
        one_of("status", InstallmentStatus),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    number: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_amount: Mapped[Decimal] = mapped_column(Money(), default=ZERO, server_default="0")
    status: Mapped[str] = _state_column(8, InstallmentStatus.OPEN)

    agreement: Mapped[Agreement] = relationship(back_populates="installments")


class Payment(Base):
    """Money received against a debt; ``reference`` (bank id) makes imports idempotent.

    A reference is unique per creditor (``creditor_id`` is the debt's, copied so the database
    can enforce it): a repeat, even one racing the first, finds the first payment. Rows from
    before that rule whose reference repeated another debt's keep ``creditor_id`` NULL.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("debt_id", "reference"),
        Index("ix_payments_creditor_id_reference", "creditor_id", "reference", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id"))
    creditor_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money())
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reference: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = _created_at()

    debt: Mapped[Debt] = relationship(back_populates="payments")


class AuditEvent(Base):
    """Who did what, when: ``actor`` is ``bot``, ``system``, ``agent:<name>`` or ``admin``."""

    __tablename__ = "audit_events"
    __table_args__ = (Index(None, "debtor_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSONData(), default=dict)
