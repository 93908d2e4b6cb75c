"""What the portal page shows, as plain values (the route renders them, bot/web/portal.html)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.negotiation.balance import BalanceParts
from bot.negotiation.offers import Offer


@dataclass(frozen=True)
class Invoice:
    """An open debt with its balance today broken down (principal, fee, interest)."""

    reference: str
    description: str
    due_date: date
    parts: BalanceParts


@dataclass(frozen=True)
class ScheduleLine:
    number: int
    due_date: date
    amount: Decimal
    paid: Decimal


@dataclass(frozen=True)
class AgreementView:
    """The debtor's active agreement, its schedule and the next installment's PIX."""

    id: int
    kind: str
    total: Decimal
    discount_percent: Decimal
    created_by: str
    created_at: datetime
    schedule: list[ScheduleLine]
    pix: dict[str, Any] | None = None  # number, amount, due_date, payload, txid
    picture: str | None = None  # the QR picture's path (/pay/{txid}.png)


@dataclass(frozen=True)
class PortalPage:
    """Everything the page shows for one debtor on one day."""

    creditor_name: str
    creditor_tax_id: str
    debtor_name: str
    debtor_tax_id: str
    locale: str
    today: date
    timezone: str
    balance: Decimal
    invoices: list[Invoice]
    offers: list[Offer] = field(default_factory=list)
    # Why no offer is shown: "nothing_owed", "talk_to_us" (above the bot's limits) or None.
    no_offers: str | None = None
    agreement: AgreementView | None = None
    # The conversation's pending offer answering a counter-proposal (acceptable like the others).
    pending: Offer | None = None
    conversation_state: str = "bot"  # "human": a person has the conversation
    contact_status: str = "active"  # "opted_out": the debtor asked for no more messages


@dataclass(frozen=True)
class Acceptance:
    """How the debtor accepted on the page: the link's id (a digest, never the token) and
    the address of the accepting request; kept in ``agreement_created``'s audit data."""

    link_id: str
    address: str

    def as_data(self) -> dict[str, str]:
        return {"link_id": self.link_id, "ip": self.address}


@dataclass(frozen=True)
class CoveredDebt:
    reference: str
    description: str
    due_date: date
    amount: Decimal


@dataclass(frozen=True)
class TermsLine:
    """One installment of the agreement and its PIX charge, where one was issued."""

    number: int
    due_date: date
    amount: Decimal
    txid: str | None = None
    charged: Decimal | None = None


@dataclass(frozen=True)
class TermsDocument:
    """What the "termo de acordo" PDF states (``bot/services/portal/terms_pdf.py``)."""

    creditor_name: str
    creditor_tax_id: str
    debtor_name: str
    debtor_tax_id: str
    locale: str
    timezone: str
    agreement_id: int
    kind: str
    total: Decimal
    discount_percent: Decimal
    created_by: str
    debts: list[CoveredDebt]
    schedule: list[TermsLine]
    accepted_at: datetime
    link_id: str | None = None
    address: str | None = None
