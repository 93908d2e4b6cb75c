"""Kinds of audit events (every contact, decision and staff action is recorded)."""

from __future__ import annotations

from enum import StrEnum


class AuditKind(StrEnum):
    INBOUND_UNKNOWN_SENDER = "inbound_unknown_sender"
    OFFER_MADE = "offer_made"
    AGREEMENT_CREATED = "agreement_created"
    HANDOFF = "handoff"
    OPTED_OUT = "opted_out"
    WRONG_PERSON = "wrong_person"
    PROMISE_TO_PAY = "promise_to_pay"
    ALREADY_PAID_REPORTED = "already_paid_reported"
    CALLBACK_REQUESTED = "callback_requested"
    DIALOGUE_UNAVAILABLE = "dialogue_unavailable"
    PORTFOLIO_IMPORTED = "portfolio_imported"
    PAYMENT_RECORDED = "payment_recorded"
    CONTACT_UNREACHABLE = "contact_unreachable"
    TELEGRAM_LINKED = "telegram_linked"
