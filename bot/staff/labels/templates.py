"""What each shipped message template says and when the bot sends it, for the template admin.

``TEMPLATES`` maps every template of ``templates/<locale>/*.j2`` to its situation (a key of
``SITUATIONS``) and a one-line description, both English message ids the catalogs translate.
``tests/web/test_template_descriptions.py`` fails when a shipped template is missing here, so a
new template arrives with its description. A template created in the admin (a new régua step,
say) has none and is shown as "not described".
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.staff.i18n_markers import N_

SITUATIONS = {
    "cadence": N_("Régua step (the bot writes first)"),
    "reply": N_("Bot reply"),
    "negotiation": N_("Offer and negotiation"),
    "payment": N_("Payment and follow-up"),
    "agent": N_("Hand-off to a person"),
    "email": N_("Part of every e-mail"),
    "button": N_("Button title"),
}


@dataclass(frozen=True)
class TemplateAbout:
    situation: str
    description: str


_DESCRIBED: dict[str, dict[str, str]] = {
    # The régua (cadence): named in the policies' cadence steps.
    "cadence": {
        "reminder_upcoming": N_("Reminder a few days before the due date."),
        "overdue_first": N_("First reminder after the due date."),
        "overdue_offer": N_("Later reminder of an overdue debt, with a payment offer."),
    },
    # Replies of the bot in the conversation.
    "reply": {
        "greet": N_("Greets the debtor and says what the bot can help with."),
        "goodbye": N_("Says goodbye when the debtor ends the conversation."),
        "acknowledge": N_("Answers a plain “ok” or “yes” with what the bot can do."),
        "clarify": N_("The bot did not understand the message and lists the options."),
        "empty_message": N_("Answer to a message without text."),
        "out_of_scope": N_("Off-topic message: the bot only deals with the open debts."),
        "identity": N_("Answers “who is writing?”: the creditor's virtual assistant and its CNPJ."),
        "debt_details": N_("Lists the open debts with their amounts and due dates."),
        "no_open_debt": N_("The debtor has nothing open to negotiate."),
        "callback_later": N_("Confirms the contact will resume later (on the date given, if any)."),
        "complaint_acknowledged": N_("Acknowledges a complaint, which goes to the team."),
        "dispute_recorded": N_("Confirms the debtor disputes the debt; the team will check."),
        "hardship_acknowledged": N_(
            "Acknowledges financial hardship (judicial recovery, bankruptcy, cash flow)."),
        "confirm_opt_out": N_("Asks whether the debtor really wants to stop automatic messages."),
        "opt_out_confirmed": N_("Confirms no more automatic messages will be sent."),
        "wrong_person": N_("Thanks someone who is not the person sought; no more messages."),
        "wrong_person_closed": N_("Answer on a contact already marked as the wrong person."),
        "unknown_sender": N_("Answer to a sender whose contact is not registered."),
        "dialogue_unavailable": N_(
            "The bot's understanding service is down: the message is kept and a person will answer."),
        "telegram_linked": N_("Confirms the Telegram chat is now linked to the contact."),
        "telegram_link_invalid": N_("The Telegram link opened is invalid or expired."),
        "portal_link_sent": N_(
            "Sends the link to the debtor's own page (invoices, payment options, this conversation)."),
        "portal_link_unavailable": N_("The link to the debtor's page cannot be sent now."),
        "raw_text": N_("A text the dialogue engine sends as it is."),
    },
    # Offers, agreements and promises.
    "negotiation": {
        "offer_full_payment": N_("Offers payment in full (with its discount) and the due date."),
        "offer_installments": N_("Offers an installment plan: down payment, installments, due dates."),
        "counter_offer": N_("Explains why the debtor's proposal is beyond the limits, and what is possible."),
        "ask_proposal_terms": N_("A proposal without figures: asks for installments and amounts."),
        "proposal_not_understood": N_("The debtor's proposal could not be read: asks again, with examples."),
        "confirm_accept": N_("Asks the debtor to confirm the offer before recording the agreement."),
        "agreement_created": N_("Confirms the agreement just made: amounts, due dates, how to pay."),
        "already_agreed": N_("The debtor accepts again, but an agreement already exists."),
        "nothing_to_accept": N_("The debtor says yes, but there is no open offer."),
        "offer_reminder": N_("Repeats the open offer when the debtor comes back to it."),
        "offer_replaced": N_("An older offer was accepted: it was replaced; repeats the open one."),
        "promise_needs_date": N_("A promise to pay without a date: asks for it."),
        "promise_date_past": N_("A promise to pay names a date already past."),
        "promise_date_too_far": N_("A promise to pay names a date beyond the allowed limit."),
        "promise_recorded": N_("Confirms a promise to pay on a date."),
    },
    # Paying, reported payments, the follow-up of agreements and promises.
    "payment": {
        "payment_method": N_("Answers “how do I pay?”: PIX key or boleto."),
        "payment_instructions": N_("How to pay each installment: PIX code or boleto."),
        "agreement_status": N_("Answers about the agreement: the next installment and what is left."),
        "installment_reminder": N_("Reminder before an installment of the agreement falls due."),
        "installment_overdue": N_("An installment of the agreement is overdue."),
        "installment_already_paid": N_("The installment asked for is already paid; shows the next one."),
        "installment_not_found": N_("The agreement has no installment with that number; shows the next one."),
        "agreement_broken": N_("An installment stayed unpaid past the grace days: the agreement is broken."),
        "promise_reminder": N_("Reminder of a promise to pay, on its day."),
        "payment_claim_received": N_("The debtor says it is already paid: the claim is recorded."),
        "payment_claim_details_recorded": N_(
            "Records the details of a reported payment (reference, amount, date, bank)."),
        "payment_claim_status": N_("Answers about a reported payment still being checked."),
        "payment_claim_confirmed": N_("The team confirmed the reported payment."),
        "payment_claim_rejected": N_("The team did not find the reported payment, with the reason."),
    },
    # A person takes over or gives back.
    "agent": {
        "handoff": N_("Tells the debtor a person will take over, and the team's hours."),
        "handback": N_("An agent hands the conversation back to the bot."),
        "conversation_closed": N_(
            "An agent closes the conversation: thanks the debtor and says how to come back."),
    },
    # E-mail parts.
    "email": {
        "email_subject": N_("Subject line of every e-mail, chosen by the message's template."),
        "email_footer": N_("Footer of every e-mail: creditor, CNPJ, why it was received, unsubscribe link."),
    },
    # Buttons (WhatsApp, Telegram, web chat).
    "button": {
        "button_accept": N_("Button: accept the offer."),
        "button_refuse": N_("Button: refuse the offer."),
        "button_debt_details": N_("Button: see the open debts."),
        "button_pay_in_full": N_("Button: pay in full."),
        "button_installments": N_("Button: pay in installments."),
        "button_stop_messages": N_("Button: stop automatic messages."),
    },
}
TEMPLATES: dict[str, TemplateAbout] = {
    name: TemplateAbout(situation, description)
    for situation, described in _DESCRIBED.items() for name, description in described.items()}


def about(name: str) -> TemplateAbout | None:
    """The situation and description of template ``name``; ``None`` if it has none."""
    return TEMPLATES.get(name)
