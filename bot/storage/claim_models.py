"""Payment claims: a debtor says a debt is paid already; an agent checks it.

Kept apart from :mod:`bot.storage.models` (same ``Base`` and naming convention) so the
feature ships its own migration (``claims_1``). A claim is ``pending`` until an agent
confirms it (a payment is recorded through the payments path) or rejects it (the debtor is
told and the régua resumes). While one is pending the régua leaves the debtor alone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models import Base, one_of
from bot.storage.types import Money, UTCDateTime, clock_now


class ClaimStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


class PaymentClaim(Base):
    """What the debtor said about a payment made, and what an agent decided about it."""

    __tablename__ = "payment_claims"
    __table_args__ = (Index(None, "debtor_id", "status"), Index(None, "status", "created_at"),
                      one_of("status", ClaimStatus))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"))
    status: Mapped[str] = mapped_column(String(16), default=ClaimStatus.PENDING.value)
    amount: Mapped[Decimal | None] = mapped_column(Money())
    paid_on: Mapped[date | None] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(128))
    bank: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")  # the debtor's messages, one a line
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    resolved_by: Mapped[str | None] = mapped_column(String(128))  # actor: agent:<name>
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_note: Mapped[str | None] = mapped_column(Text)  # the reason of a rejection
    payment_amount: Mapped[Decimal | None] = mapped_column(Money())  # what was confirmed

    attachments: Mapped[list[ClaimAttachment]] = relationship(
        back_populates="claim", lazy="selectin", order_by="ClaimAttachment.id")


class ClaimAttachment(Base):
    """A receipt the debtor sent (a picture or a PDF), stored with its type and size."""

    __tablename__ = "payment_claim_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("payment_claims.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer)
    storage_path: Mapped[str | None] = mapped_column(String(512))
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)

    claim: Mapped[PaymentClaim] = relationship(back_populates="attachments")
