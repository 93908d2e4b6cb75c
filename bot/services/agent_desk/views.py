"""What the agent console shows: the queue, a conversation's history, debts, offers and agreements."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bot.config import WhatsAppTemplate
from bot.negotiation.offers import Limits

# ``Settings.whatsapp_templates``: template name -> locale -> approved Content SID (+ variables).
ApprovedTemplates = Mapping[str, Mapping[str, WhatsAppTemplate]]


@dataclass(frozen=True)
class QueueItem:
    public_id: str
    debtor_name: str
    contact_name: str
    channel: str
    reason: str
    waiting_since: datetime
    balance: Decimal
    taken_by: str | None
    creditor_id: str = ""


@dataclass(frozen=True)
class HistoryItem:
    id: int
    kind: str  # "message" or "note"
    author: str
    direction: str
    text: str
    at: datetime
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class DebtLine:
    external_id: str
    description: str
    amount: Decimal
    balance: Decimal
    due_date: date
    status: str


@dataclass(frozen=True)
class OfferLine:
    kind: str
    total: Decimal
    discount_percent: Decimal
    count: int
    status: str
    created_by: str
    at: datetime


@dataclass(frozen=True)
class AgreementLine:
    kind: str
    total: Decimal
    status: str
    created_by: str
    installments: list[tuple[int, date, Decimal]]


@dataclass(frozen=True)
class TemplateChoice:
    """An approved WhatsApp template the agent may send, rendered with the debtor's data.

    ``error`` says why it cannot be sent (it does not render with this debtor's data, or the
    outbox would resolve another Content SID); such a choice is shown but refused."""

    name: str
    content_sid: str
    variables: tuple[str, ...]
    preview: str
    error: str = ""


@dataclass(frozen=True)
class ConversationView:
    public_id: str
    state: str
    reason: str | None
    channel: str
    address: str
    locale: str
    debtor_name: str
    debtor_external_id: str
    contact_name: str
    taken_by: str | None
    balance: Decimal
    history: list[HistoryItem]
    debts: list[DebtLine]
    offers: list[OfferLine]
    agreements: list[AgreementLine]
    bot_limits: Limits
    agent_limits: Limits
    whatsapp_window_open: bool
    last_message_id: int
    # WhatsApp with the 24-hour window closed: the approved templates for the debtor's locale.
    templates: list[TemplateChoice] = field(default_factory=list)
    creditor_id: str = ""  # the debtor's creditor: its time zone, its audit page
