"""The buttons and template variables the bot's replies share (offers, menus, payment)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.conversation.outcome import Button, Reply
from bot.negotiation.offers import Offer
from bot.policies.models import Policy
from bot.services.payment_pictures import instruction_picture
from bot.understanding.consent import offer_payload

OPT_OUT_BUTTONS = (Button("button_stop_messages", "/opt_out"),)
MENU_BUTTONS = (
    Button("button_debt_details", "/ask_debt_details"),
    Button("button_pay_in_full", "/pay_in_full"),
    Button("button_installments", "/request_installments"),
)


def offer_buttons(offer: Offer) -> tuple[Button, ...]:
    """Accept and refuse, both naming the offer: a button under an older offer is stale."""
    return (Button("button_accept", offer_payload("affirm", offer.reference)),
            Button("button_refuse", offer_payload("deny", offer.reference)))


def offer_variables(offer: Offer) -> dict[str, Any]:
    return {
        "kind": offer.kind,
        "balance": offer.balance,
        "total": offer.total,
        "discount_percent": offer.discount_percent,
        "discount_amount": offer.balance - offer.total if offer.total < offer.balance else Decimal(
            "0.00"
        ),
        "monthly_interest_percent": offer.monthly_interest_percent,
        "count": offer.count,
        "installments": [
            {"number": i.number, "due_date": i.due_date, "amount": i.amount}
            for i in offer.installments
        ],
    }


def hours_variables(policy: Policy) -> list[dict[str, str]]:
    return [{"days": days, "window": window} for days, window in policy.contact_rules.hours.items()]


def instructions_reply(common: dict[str, Any], charges: list[dict[str, Any]], count: int = 1) -> Reply:
    """How to pay ``charges`` (one installment of a plan of ``count``, or a promise), with
    the QR code of the first PIX charge as a picture."""
    return Reply("payment_instructions", {**common, "charges": charges, "count": count},
                 media=instruction_picture(charges))
