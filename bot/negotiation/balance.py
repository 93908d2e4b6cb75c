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


class BalanceParts(BaseModel):
    """A debt's balance on a day broken down for display: ``total`` is :func:`balance_on`'s
    balance and ``principal - paid + late_fee + interest == total`` whenever it is positive
    (the interest absorbs the rounding of the fee)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    principal: Decimal
    paid: Decimal
    late_fee: Decimal
    interest: Decimal
    days_past_due: int
    total: Decimal


def balance_parts(debt: DebtPosition, on: date, charges: LateCharges) -> BalanceParts:
    """The principal, multa and juros de mora of :func:`balance_on`'s balance."""
    days = days_past_due(debt.due_date, on)
    total = balance_on(debt, on, charges)
    zero = Decimal("0.00")
    late_fee = round_money(percent_of(debt.principal, charges.late_fee_percent)) if days else zero
    interest = total + debt.paid - debt.principal - late_fee if days and total > 0 else zero
    return BalanceParts(principal=round_money(debt.principal), paid=round_money(debt.paid),
                        late_fee=late_fee, interest=max(zero, interest), days_past_due=days,
                        total=total)
