"""Tables of the régua (cadence): contacts planned and made, decisions not to contact, runs.

Kept apart from :mod:`bot.storage.models` (same ``Base`` and naming convention) so the
cadence feature ships its own migration (``0005_cadence``). See docs/cadence.md.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base, one_of
from bot.storage.types import UTCDateTime, clock_now


class CadenceContactStatus(StrEnum):
    PLANNED = "planned"  # decided by the scheduler; not yet in the outbox
    QUEUED = "queued"  # in the outbox (or stored in the web conversation)
    SENT = "sent"  # the provider accepted it (or it went to the web chat)
    FELL_BACK = "fell_back"  # failed on this channel; the next attempt row tries the next one
    FAILED = "failed"  # failed on every channel of the step
    CANCELLED = "cancelled"  # a pause began (paid, dispute, agreement, person, opt-out) before it went
    EXPIRED = "expired"  # its window closed before it went: planned again on the next allowed day


# Contacts that count as made (for the caps and for "this step is done").
MADE = (
    CadenceContactStatus.PLANNED.value,
    CadenceContactStatus.QUEUED.value,
    CadenceContactStatus.SENT.value,
    CadenceContactStatus.FELL_BACK.value,
    CadenceContactStatus.FAILED.value,
)


class CadenceContact(Base):
    """One reminder of a régua step to one debt, on one channel (``attempt`` 0, then fallbacks).

    ``idempotency_key`` is ``cadence:<debt id>:<cadence>:<step>:<local day>`` (``:<channel>``
    added for a fallback) and is also the outbox row's key, so neither the scheduler nor a
    worker can make the same contact twice.
    """

    __tablename__ = "cadence_contacts"
    __table_args__ = (
        Index(None, "debt_id", "cadence", "step"),
        Index(None, "debtor_id", "day"),
        Index(None, "day"),
        Index(None, "status", "at"),
        one_of("status", CadenceContactStatus),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    creditor_id: Mapped[str] = mapped_column(String(64))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    segment: Mapped[str] = mapped_column(String(64))
    cadence: Mapped[str] = mapped_column(String(64))
    step: Mapped[int] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    day: Mapped[date] = mapped_column(Date)  # the debtor's local day of the contact
    timezone: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=CadenceContactStatus.PLANNED.value)
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now, onupdate=clock_now)


class ContactDecision(Base):
    """A decision not to contact: the step of a debt, why, the first and last day it applied.

    One row per (debt, cadence, step, reason): a reason that holds for days updates
    ``last_day`` and ``days`` instead of adding rows.
    """

    __tablename__ = "contact_decisions"
    __table_args__ = (
        UniqueConstraint("debt_id", "cadence", "step", "reason"),
        Index(None, "creditor_id", "last_day"),
        Index(None, "debtor_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creditor_id: Mapped[str] = mapped_column(String(64))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    debt_id: Mapped[int] = mapped_column(ForeignKey("debts.id"))
    segment: Mapped[str] = mapped_column(String(64))
    cadence: Mapped[str] = mapped_column(String(64))
    step: Mapped[int] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str | None] = mapped_column(String(64))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    days: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now, onupdate=clock_now)


class CadenceRun(Base):
    """One scheduling run of a creditor's régua for a day (the worker runs it periodically)."""

    __tablename__ = "cadence_runs"
    __table_args__ = (Index(None, "creditor_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    creditor_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    planned: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
