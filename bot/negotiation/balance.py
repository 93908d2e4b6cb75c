"""What a debtor owes on a given day (principal + multa + juros de mora - payments)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from bot.negotiation.money import percent_of, round_money
from bot.policies.models import LateCharges

DAYS_PER_MONTH = 30


class DebtPosition(BaseModel):
    """One debt as the creditor reported it, plus what has been paid against it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    external_id: str
    principal: Decimal
    due_date: date
    paid: Decimal = Decimal("0")


def days_past_due(due_date: date, on: date) -> int:
    """Days after the due date; 0 on the due date and before it."""
    return max(0, (on - due_date).days)


def balance_on(debt: DebtPosition, on: date, charges: LateCharges) -> Decimal:
    """Balance owed on ``on``, rounded to cents and never below zero.

    Not overdue: ``principal - paid``. Overdue by ``d`` days::

        principal
        + principal * late_fee_percent / 100                       (multa, charged once)
        + principal * monthly_interest_percent / 100 * d / 30      (juros simples pro rata die)
        - paid

    The balance never decreases as ``on`` moves forward.
    """
    days = days_past_due(debt.due_date, on)
    owed = debt.principal
    if days > 0:
        late_fee = percent_of(debt.principal, charges.late_fee_percent)
        interest = percent_of(debt.principal, charges.monthly_interest_percent) * days
        owed += late_fee + interest / DAYS_PER_MONTH
    return max(Decimal("0.00"), round_money(owed - debt.paid))
