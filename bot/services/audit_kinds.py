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
    # Payments follow-up (issue 7)
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    PAYMENT_INSTRUCTIONS_SENT = "payment_instructions_sent"
    AGREEMENT_KEPT = "agreement_kept"
    AGREEMENT_BROKEN = "agreement_broken"
    PROMISE_KEPT = "promise_kept"
    PROMISE_BROKEN = "promise_broken"
    CADENCE_RESUMED = "cadence_resumed"
    FOLLOWUP_SENT = "followup_sent"
    # Régua (issue 5)
    CADENCE_REMINDER = "cadence_reminder"
    # The creditor gives up on a debt (issue 7): actor, reason, what was outstanding.
    DEBT_WRITTEN_OFF = "debt_written_off"
