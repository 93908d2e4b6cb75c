"""Kinds of audit events recorded for staff actions (actor ``agent:<name>`` / ``admin:<name>``)."""

from __future__ import annotations

from enum import StrEnum


class StaffAuditKind(StrEnum):
    USER_CREATED = "staff_user_created"
    LOGIN = "staff_login"
    LOGIN_FAILED = "staff_login_failed"
    LOGIN_RATE_LIMITED = "staff_login_rate_limited"
    LOGOUT = "staff_logout"
    CONVERSATION_TAKEN = "conversation_taken"
    AGENT_REPLY = "agent_reply"
    AGENT_OFFER = "offer_made"  # same kind as the bot's offers; data.beyond_bot_limits marks it
    AGENT_AGREEMENT = "agreement_created"
    PROMISE_TO_PAY = "promise_to_pay"
    DISPUTE_MARKED = "dispute_marked"
    NOTE_ADDED = "note_added"
    HANDED_BACK = "handed_back"
    CONVERSATION_CLOSED = "conversation_closed"
    TEMPLATE_SAVED = "template_saved"
    TEMPLATE_ROLLED_BACK = "template_rolled_back"
    TEMPLATE_REFUSED = "template_refused"
