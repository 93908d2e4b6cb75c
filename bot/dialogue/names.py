"""Intent, entity, slot and action names shared with ``dialogs/domain.yml``.

A test checks these enums against the domain file so that the two never drift.
"""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    GREET = "greet"
    GOODBYE = "goodbye"
    AFFIRM = "affirm"
    DENY = "deny"
    ASK_DEBT_DETAILS = "ask_debt_details"
    PAY_IN_FULL = "pay_in_full"
    REQUEST_INSTALLMENTS = "request_installments"
    REQUEST_DISCOUNT = "request_discount"
    PROPOSE_TERMS = "propose_terms"
    PROMISE_TO_PAY = "promise_to_pay"
    ALREADY_PAID = "already_paid"
    DISPUTE_DEBT = "dispute_debt"
    FINANCIAL_HARDSHIP = "financial_hardship"
    REQUEST_HUMAN = "request_human"
    OPT_OUT = "opt_out"
    WRONG_PERSON = "wrong_person"
    ASK_PAYMENT_METHOD = "ask_payment_method"
    REQUEST_CALLBACK_LATER = "request_callback_later"
    COMPLAIN = "complain"
    ASK_IDENTITY = "ask_identity"
    OUT_OF_SCOPE = "out_of_scope"


class Entity(StrEnum):
    AMOUNT = "amount"
    INSTALLMENTS = "installments"
    DATE = "date"
    PERCENT = "percent"


class Slot(StrEnum):
    OFFER_PENDING = "offer_pending"
    # True after action_propose_terms found no concrete terms: activates proposal_form.
    TERMS_MISSING = "terms_missing"
    # The debtor's answer collected by proposal_form (whatever its intent).
    PROPOSAL_TEXT = "proposal_text"


class Form(StrEnum):
    PROPOSAL = "proposal_form"


class ActionName(StrEnum):
    GREET = "action_greet"
    GOODBYE = "action_goodbye"
    DEBT_DETAILS = "action_debt_details"
    PAY_IN_FULL = "action_pay_in_full"
    REQUEST_DISCOUNT = "action_request_discount"
    REQUEST_INSTALLMENTS = "action_request_installments"
    PROPOSE_TERMS = "action_propose_terms"
    ACCEPT_OFFER = "action_accept_offer"
    REFUSE_OFFER = "action_refuse_offer"
    ACKNOWLEDGE = "action_acknowledge"
    PROMISE_TO_PAY = "action_promise_to_pay"
    ALREADY_PAID = "action_already_paid"
    FINANCIAL_HARDSHIP = "action_financial_hardship"
    HANDOFF = "action_handoff"
    OPT_OUT = "action_opt_out"
    WRONG_PERSON = "action_wrong_person"
    PAYMENT_METHOD = "action_payment_method"
    CALLBACK_LATER = "action_callback_later"
    IDENTITY = "action_identity"
    OUT_OF_SCOPE = "action_out_of_scope"
    FALLBACK = "action_default_fallback"
    # proposal_form: asks for the terms, and validates the answer.
    ASK_PROPOSAL_TEXT = "action_ask_proposal_text"
    VALIDATE_PROPOSAL_FORM = "validate_proposal_form"
