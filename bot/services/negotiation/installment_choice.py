"""One payment at a time: which installment's payment details a reply carries.

After an agreement the debtor gets the first open installment's PIX only; each later one
comes with its reminder (bot/cadence/followup/) or when asked: "manda o pix da 2ª parcela"
names it (:func:`bot.understanding.ordinals.installment_number`), "manda o pix" or
"the next one" means the next open installment. A number that is not in the plan, or an
installment already paid, is said so, and the next open one follows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.conversation.outcome import Reply
from bot.storage import models as db


@dataclass(frozen=True)
class InstallmentChoice:
    """The installment to send (``None``: every one is paid) and what to say first."""

    chosen: db.Installment | None
    notices: tuple[Reply, ...] = ()


def is_open(item: db.Installment) -> bool:
    return item.paid_amount < item.amount


def next_open(installments: Sequence[db.Installment]) -> db.Installment | None:
    """The open installment due first (by due date, then number)."""
    pending = sorted((i for i in installments if is_open(i)), key=lambda i: (i.due_date, i.number))
    return pending[0] if pending else None


def choose_installment(installments: Sequence[db.Installment], number: int | None,
                       common: dict[str, Any]) -> InstallmentChoice:
    """The installment ``number`` when it is in the plan and open; else the next open one,
    after a notice naming why (``installment_not_found`` / ``installment_already_paid``)."""
    following = next_open(installments)
    if number is None:
        return InstallmentChoice(following)
    asked = next((i for i in installments if i.number == number), None)
    if asked is not None and is_open(asked):
        return InstallmentChoice(asked)
    variables = {**common, "number": number, "count": len(installments)}
    template = "installment_not_found" if asked is None else "installment_already_paid"
    return InstallmentChoice(following, (Reply(template, variables),))
