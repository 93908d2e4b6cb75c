"""What happened, per audit event kind (``AuditKind``)."""

from __future__ import annotations

from bot.staff.i18n_markers import N_

AUDIT_KINDS = {
    "inbound_unknown_sender": N_("Message from an unknown sender"),
    "offer_made": N_("Offer made"),
    "agreement_created": N_("Agreement made"),
    "handoff": N_("Handed to a person"),
    "opted_out": N_("Opted out"),
    "wrong_person": N_("Wrong person"),
    "promise_to_pay": N_("Promise to pay"),
    "already_paid_reported": N_("Says it is already paid"),
    "payment_claim_details": N_("Payment claim details"),
    "payment_claim_confirmed": N_("Payment claim confirmed"),
    "payment_claim_rejected": N_("Payment claim rejected"),
    "callback_requested": N_("Asked to be contacted later"),
    "hardship_reported": N_("Financial hardship reported"),
    "dialogue_unavailable": N_("Bot unavailable"),
    "portfolio_imported": N_("Portfolio imported"),
    "payment_recorded": N_("Payment recorded"),
    "contact_unreachable": N_("Contact unreachable"),
    "telegram_linked": N_("Telegram linked"),
    "portal_viewed": N_("Portal opened"),
    "portal_link_issued": N_("Portal link issued"),
    "portal_link_used": N_("Portal link used"),
    "portal_link_revoked": N_("Portal link revoked"),
    "payment_provider_error": N_("Payment provider error"),
    "payment_instructions_sent": N_("Payment instructions sent"),
    "agreement_kept": N_("Agreement kept"),
    "agreement_broken": N_("Agreement broken"),
    "promise_kept": N_("Promise kept"),
    "promise_broken": N_("Promise broken"),
    "cadence_resumed": N_("Reminders resumed"),
    "followup_sent": N_("Follow-up sent"),
    "cadence_reminder": N_("Reminder sent"),
    "debt_written_off": N_("Debt written off"),
    "staff_user_created": N_("Staff user created"),
    "staff_login": N_("Signed in"),
    "staff_login_failed": N_("Sign-in failed"),
    "staff_login_rate_limited": N_("Sign-in blocked (too many attempts)"),
    "staff_logout": N_("Signed out"),
    "conversation_taken": N_("Conversation taken"),
    "agent_reply": N_("Agent reply"),
    "dispute_marked": N_("Dispute marked"),
    "note_added": N_("Note added"),
    "handed_back": N_("Handed back to the bot"),
    "conversation_closed": N_("Conversation closed"),
    "template_saved": N_("Template saved"),
    "template_rolled_back": N_("Template rolled back"),
    "template_refused": N_("Template refused"),
}
# The timeline's own kinds (bot/services/audit_trail.py) besides the audit events.
TIMELINE_KINDS = {
    "message_in": N_("Message received"), "message_out": N_("Message sent"), "offer": N_("Offer"),
    "agreement": N_("Agreement"), "payment": N_("Payment"), "promise": N_("Promise to pay"),
}
AUDIT_KINDS.update(TIMELINE_KINDS)
