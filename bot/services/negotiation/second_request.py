"""Two requests in one message: the command for the second one and the combined answer.

The NLU names one intent per message; ``bot/understanding/requests.py`` finds another of
the combining requests in the same text ("quanto eu devo e dá pra parcelar?" is the debt
details *and* installments). The service runs both commands in the answer order (what is
owed, then the offer, then how to pay) and sends both answers in one turn.
"""

from __future__ import annotations

from dataclasses import replace

from bot.conversation import commands as cmd
from bot.conversation.outcome import Outcome
from bot.understanding.requests import Request, answer_order, second_request

_KIND: dict[type[cmd.Command], Request] = {
    cmd.ShowDebtDetails: Request.DEBT_DETAILS,
    cmd.OfferFullPayment: Request.PAY_IN_FULL,
    cmd.OfferDiscount: Request.DISCOUNT,
    cmd.OfferInstallments: Request.INSTALLMENTS,
    cmd.ExplainPaymentMethod: Request.PAYMENT_METHOD,
}
_COMMAND: dict[Request, type[cmd.Command]] = {kind: command for command, kind in _KIND.items()}
NEGOTIATION = (cmd.OfferFullPayment, cmd.OfferDiscount, cmd.OfferInstallments)


def second_command(command: cmd.Command) -> cmd.Command | None:
    """The command for another request in ``command``'s text, or ``None``."""
    kind = _KIND.get(type(command))
    if kind is None:
        return None
    other = second_request(command.text, kind.value)
    return None if other is None else _COMMAND[other](command.text)


def in_answer_order(command: cmd.Command, second: cmd.Command) -> tuple[cmd.Command, cmd.Command]:
    first, then = answer_order([_KIND[type(command)], _KIND[type(second)]])
    return (command, second) if first == _KIND[type(command)] else (second, command)


def combine(first: Outcome, then: Outcome) -> Outcome:
    """Both answers in order. A new offer in the second makes the first's recall of the
    previous offer ("offer_reminder") pointless, so it is left out."""
    replies = first.replies
    if then.offer_pending:
        replies = tuple(reply for reply in replies if reply.template != "offer_reminder")
    pending = then.offer_pending if then.offer_pending is not None else first.offer_pending
    return replace(then, replies=replies + then.replies, offer_pending=pending,
                   slots={**first.slots, **then.slots})
