"""Kinds of audit events (every contact, decision and staff action is recorded).

Staff actions are recorded with actor ``agent:<name>`` or ``admin:<name>``; an offer or an
agreement made by an agent has the same kind as the bot's.
"""

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
    ALREADY_PAID_REPORTED = "already_paid_reported"  # data.claim_id: the claim it opened
    # Payment claims: details added by the debtor, an agent's confirmation or rejection.
    PAYMENT_CLAIM_DETAILS = "payment_claim_details"
    PAYMENT_CLAIM_CONFIRMED = "payment_claim_confirmed"
    PAYMENT_CLAIM_REJECTED = "payment_claim_rejected"
    CALLBACK_REQUESTED = "callback_requested"
    # The debtor said they cannot pay as offered: the text and a coarse category.
    HARDSHIP_REPORTED = "hardship_reported"
    DIALOGUE_UNAVAILABLE = "dialogue_unavailable"
    PORTFOLIO_IMPORTED = "portfolio_imported"
    PAYMENT_RECORDED = "payment_recorded"
    CONTACT_UNREACHABLE = "contact_unreachable"
    TELEGRAM_LINKED = "telegram_linked"
    # The debtor opened the portal page (/p/{token}); an acceptance there is AGREEMENT_CREATED
    # with actor ``portal``.
    PORTAL_VIEWED = "portal_viewed"
    # Portal links (data.link: the stored link's id, never the token): issued (actor: who
    # issued it), used (actor ``portal``; data.via: page or chat), revoked (actor: who).
    PORTAL_LINK_ISSUED = "portal_link_issued"
    PORTAL_LINK_USED = "portal_link_used"
    PORTAL_LINK_REVOKED = "portal_link_revoked"
    # Payments follow-up
    PAYMENT_PROVIDER_ERROR = "payment_provider_error"
    PAYMENT_INSTRUCTIONS_SENT = "payment_instructions_sent"
    AGREEMENT_KEPT = "agreement_kept"
    AGREEMENT_BROKEN = "agreement_broken"
    PROMISE_KEPT = "promise_kept"
    PROMISE_BROKEN = "promise_broken"
    CADENCE_RESUMED = "cadence_resumed"
    FOLLOWUP_SENT = "followup_sent"
    # Régua
    CADENCE_REMINDER = "cadence_reminder"
    # The creditor gives up on a debt: actor, reason, what was outstanding.
    DEBT_WRITTEN_OFF = "debt_written_off"
    # Staff accounts and the agent console
    USER_CREATED = "staff_user_created"
    LOGIN = "staff_login"
    LOGIN_FAILED = "staff_login_failed"
    LOGIN_RATE_LIMITED = "staff_login_rate_limited"
    LOGOUT = "staff_logout"
    CONVERSATION_TAKEN = "conversation_taken"
    AGENT_REPLY = "agent_reply"
    AGENT_OFFER = "offer_made"  # another name for OFFER_MADE; data.beyond_bot_limits marks it
    AGENT_AGREEMENT = "agreement_created"  # another name for AGREEMENT_CREATED
    DISPUTE_MARKED = "dispute_marked"
    NOTE_ADDED = "note_added"
    HANDED_BACK = "handed_back"
    CONVERSATION_CLOSED = "conversation_closed"
    TEMPLATE_SAVED = "template_saved"
    TEMPLATE_ROLLED_BACK = "template_rolled_back"
    TEMPLATE_REFUSED = "template_refused"
