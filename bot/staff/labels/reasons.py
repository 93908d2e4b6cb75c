"""Why a conversation waits for a person (``Conversation.handoff_reason``): the debtor's intent
that the policy hands off (``handoff.on_intents``) or one of the bot's own reasons."""

from __future__ import annotations

from bot.staff.i18n_markers import N_

# Intents (bot/dialogue/names.py ``Intent``): a policy may hand off on any of them.
INTENT_REASONS = {
    "greet": N_("Greeted"), "goodbye": N_("Said goodbye"), "affirm": N_("Said yes"),
    "deny": N_("Said no"), "ask_debt_details": N_("Asked about the debt"),
    "pay_in_full": N_("Wants to pay in full"), "request_installments": N_("Asked for installments"),
    "request_discount": N_("Asked for a discount"), "propose_terms": N_("Proposed terms"),
    "promise_to_pay": N_("Promise to pay"), "already_paid": N_("Says it is already paid"),
    "dispute_debt": N_("Dispute"), "financial_hardship": N_("Financial hardship"),
    "request_human": N_("Asked for a person"), "opt_out": N_("Asked not to be contacted"),
    "wrong_person": N_("Wrong person"), "ask_payment_method": N_("Asked how to pay"),
    "request_callback_later": N_("Asked to be contacted later"), "complain": N_("Complaint"),
    "ask_identity": N_("Asked who is writing"), "out_of_scope": N_("Off-topic message"),
}
# The bot's own reasons (negotiation service, state machine, conversation service).
BOT_REASONS = {
    "balance_above": N_("Balance above the bot's limit"),
    "proposal_not_understood": N_("Proposal not understood"),
    "fallbacks": N_("The bot did not understand"),
    "dialogue_unavailable": N_("Bot unavailable"),
    "hardship_keyword": N_("Financial hardship"),
    "hardship_intent": N_("Financial hardship"),
    "max_rounds": N_("Too many counter-offers"),
    "limits_exhausted": N_("Beyond the bot's limits"),
}
HANDOFF_REASONS = {**INTENT_REASONS, **BOT_REASONS}
