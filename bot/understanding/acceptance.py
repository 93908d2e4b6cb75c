"""Whether the debtor's "yes" accepts the current offer: agreements only on purpose.

An agreement is made only when all of these hold:

1. the last bot message showed an offer (its accept button carries the offer's
   reference), and that offer is still the current one;
2. the debtor's message is a clear affirmation (``is_clear_affirmation``) or the accept
   button of *that* offer (``/affirm{"offer_id": "<reference>"}``).

Anything else asks first (``CONFIRM``: the current offer again, with its buttons); a
button of an older offer answers that it was replaced (``STALE``). Pure.
"""

from __future__ import annotations

from enum import StrEnum

from bot.understanding.consent import button_payload, is_clear_affirmation


class Acceptance(StrEnum):
    ACCEPT = "accept"
    CONFIRM = "confirm"  # not clear enough, or the offer is not the last thing shown
    STALE = "stale"  # a button of an offer that was replaced
    NOTHING = "nothing"  # no offer on the table


def judge_acceptance(text: str, intent: str, confidence: float, *, current: str | None,
                     on_screen: str | None) -> Acceptance:
    """``current``: the current offer's reference; ``on_screen``: the reference of the offer
    the last bot message showed (``None`` when that message was not an offer)."""
    if current is None:
        return Acceptance.NOTHING
    button = button_payload(text)
    if button is not None:
        if button.offer_id is not None and button.offer_id != current:
            return Acceptance.STALE
        if button.intent != "affirm" or button.offer_id is None or on_screen != current:
            return Acceptance.CONFIRM
        return Acceptance.ACCEPT
    if on_screen != current or not is_clear_affirmation(text, intent, confidence):
        return Acceptance.CONFIRM
    return Acceptance.ACCEPT


def is_stale_refusal(text: str, current: str | None) -> bool:
    """A refuse button under an offer that is no longer the current one."""
    button = button_payload(text)
    return button is not None and button.offer_id is not None and button.offer_id != current
