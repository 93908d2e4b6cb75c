"""A debtor's counter-proposal as concrete terms (parsed from chat text by bot.understanding)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from bot.negotiation.money import CENT, percent_of, round_money
from bot.negotiation.offers import (
    ZERO,
    InfeasiblePlan,
    Limits,
    Offer,
    full_payment_offer,
    installment_offer,
    is_feasible_count,
    max_feasible_installments,
    plan_amounts,
)


class Proposal(BaseModel):
    """Terms the debtor proposed. Every field is optional: debtors say only part of it.

    - ``installments``: number of payments, down payment included ("6x", "seis parcelas").
    - ``installment_amount``: amount of each payment ("4x de 3 mil" -> 3000.00).
    - ``down_payment``: amount paid now ("pago 2 mil agora e o resto em 5x").
    - ``down_payment_percent``: share paid now ("50% agora").
    - ``total``: total the debtor offers to pay ("pago 8 mil pra quitar").
    - ``discount_percent``: discount asked for ("quito a vista com 10% de desconto").
    - ``first_due_date``: when the first payment would be made ("dia 15").
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    installments: int | None = None
    installment_amount: Decimal | None = None
    down_payment: Decimal | None = None
    down_payment_percent: Decimal | None = None
    total: Decimal | None = None
    discount_percent: Decimal | None = None
    first_due_date: date | None = None

    @property
    def is_empty(self) -> bool:
        return all(
            getattr(self, name) is None for name in type(self).model_fields
        )


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Outcome of checking a proposal against the limits.

    ``accepted``: the proposal fits every limit and ``offer`` is exactly the plan agreed on.
    Otherwise ``offer`` is the closest plan that fits (None only for "not_understood") and
    ``reasons`` holds the reason codes (see ``REASON_CODES``).
    """

    accepted: bool
    offer: Offer | None
    reasons: tuple[str, ...]


REASON_CODES: dict[str, str] = {
    "not_understood": "the proposal is empty or nonsensical (no offer returned)",
    "installments_above_max": "more payments than installments_max",
    "installment_below_min": "a payment would be below installment_min_amount",
    "down_payment_below_min": "down payment below down_payment_min_percent of the balance",
    "down_payment_above_balance": "down payment covers the whole balance; nothing to split",
    "discount_above_max": "discount above the maximum (plans carry no discount at all)",
    "first_due_too_late": "first payment after today + first_due_within_days",
    "first_due_in_past": "first payment date already past",
    "amount_below_balance": "the money offered is less than the limits require",
}


def evaluate_proposal(
    proposal: Proposal, balance: Decimal, today: date, limits: Limits
) -> Evaluation:
    """Turn a debtor's proposal into a concrete plan and check it against the limits.

    Interpretation:

    - a plan when ``installments >= 2``, or when the count is not said but an installment
      amount or a down payment is (then the count is the fewest payments of at most
      ``installment_amount``, or the longest feasible plan);
    - otherwise a full payment: its discount is the larger of ``discount_percent`` and the
      discount implied by ``total`` (or ``installment_amount`` when ``installments == 1``).

    The money the debtor offers (``total``; else ``down_payment + installment_amount *
    (n - 1)``; else ``installment_amount * n``) must cover the plan's total with interest,
    with a tolerance of one cent per payment for rounding. When it covers more, the plan at
    the policy's price is returned: the debtor never pays more than the plan requires.
    """
    if proposal.is_empty or not _is_sensible(proposal):
        return Evaluation(accepted=False, offer=None, reasons=("not_understood",))
    if _wants_installments(proposal):
        return _evaluate_plan(proposal, balance, today, limits)
    return _evaluate_full_payment(proposal, balance, today, limits)


def _is_sensible(proposal: Proposal) -> bool:
    amounts = (
        proposal.installment_amount,
        proposal.down_payment,
        proposal.down_payment_percent,
        proposal.total,
        proposal.discount_percent,
    )
    if any(amount is not None and (amount < 0 or not amount.is_finite()) for amount in amounts):
        return False
    percents = (proposal.down_payment_percent, proposal.discount_percent)
    if any(percent is not None and percent > 100 for percent in percents):
        return False
    return proposal.installments is None or proposal.installments >= 1


def _wants_installments(proposal: Proposal) -> bool:
    if proposal.installments is not None:
        return proposal.installments >= 2
    return any(
        value is not None
        for value in (
            proposal.installment_amount,
            proposal.down_payment,
            proposal.down_payment_percent,
        )
    )


def _due_date_reasons(due: date | None, today: date, limits: Limits) -> list[str]:
    if due is None:
        return []
    if due > limits.latest_first_due_date(today):
        return ["first_due_too_late"]
    if due < today:
        return ["first_due_in_past"]
    return []


def _clamped_due_date(due: date | None, today: date, limits: Limits) -> date | None:
    if due is None:
        return None
    return min(max(due, today), limits.latest_first_due_date(today))


def _evaluate_full_payment(
    proposal: Proposal, balance: Decimal, today: date, limits: Limits
) -> Evaluation:
    reasons: list[str] = []
    discount = proposal.discount_percent or ZERO
    if discount > limits.discount_max_percent:
        reasons.append("discount_above_max")
    offered = proposal.total
    if offered is None and proposal.installments == 1:
        offered = proposal.installment_amount
    if offered is not None and offered < balance:
        # Compare money, not percentages: the max-discount total is rounded to cents.
        if offered < round_money(percent_of(balance, 100 - limits.discount_max_percent)):
            reasons.append("amount_below_balance")
        implied = (balance - offered) * 100 / balance
        discount = max(discount, min(implied, limits.discount_max_percent))
    reasons += _due_date_reasons(proposal.first_due_date, today, limits)
    due = _clamped_due_date(proposal.first_due_date, today, limits)
    allowed = min(discount, limits.discount_max_percent)
    offer = full_payment_offer(balance, allowed, today, limits, due_date=due)
    return Evaluation(accepted=not reasons, offer=offer, reasons=tuple(reasons))


def _count_for_budget(balance: Decimal, budget: Decimal, limits: Limits) -> int:
    """Fewest payments whose regular payment is at most ``budget`` (else the longest plan)."""
    longest = max_feasible_installments(balance, limits)
    for count in range(2, longest + 1):
        if is_feasible_count(balance, count, limits):
            amounts = plan_amounts(balance, count, limits).amounts
            if max(amounts[1:]) <= budget:
                return count
    return max(longest, 2)


def _evaluate_plan(
    proposal: Proposal, balance: Decimal, today: date, limits: Limits
) -> Evaluation:
    down_payment = proposal.down_payment
    if down_payment is None and proposal.down_payment_percent is not None:
        down_payment = round_money(percent_of(balance, proposal.down_payment_percent))
    count = proposal.installments
    if count is None:
        if proposal.installment_amount is not None:
            count = _count_for_budget(balance, proposal.installment_amount, limits)
        else:
            count = max(max_feasible_installments(balance, limits), 2)
    reasons: list[str] = []
    if proposal.discount_percent:
        reasons.append("discount_above_max")
    if (
        proposal.installment_amount is not None
        and proposal.installment_amount < limits.smallest_payment
    ):
        reasons.append("installment_below_min")
    plan: Offer | None
    try:
        plan = installment_offer(
            balance,
            count,
            today,
            limits,
            down_payment=down_payment,
            first_due_date=proposal.first_due_date,
        )
    except InfeasiblePlan as infeasible:
        plan = None
        reasons += infeasible.reasons
    offered = _money_offered(proposal, count)
    required = balance if plan is None else plan.total
    if offered is not None and offered + CENT * count < required:
        reasons.append("amount_below_balance")
    unique = tuple(dict.fromkeys(reasons))
    if plan is not None and not unique:
        return Evaluation(accepted=True, offer=plan, reasons=())
    closest = closest_plan(
        balance, count, today, limits, down_payment=down_payment,
        first_due_date=proposal.first_due_date,
    )
    return Evaluation(accepted=False, offer=closest, reasons=unique)


def _money_offered(proposal: Proposal, count: int) -> Decimal | None:
    if proposal.total is not None:
        return proposal.total
    amount = proposal.installment_amount
    if amount is None:
        return None
    if proposal.down_payment is not None:
        return proposal.down_payment + amount * (count - 1)
    return amount * count


def closest_plan(
    balance: Decimal,
    count: int,
    today: date,
    limits: Limits,
    *,
    down_payment: Decimal | None = None,
    first_due_date: date | None = None,
) -> Offer:
    """The feasible plan nearest to the terms asked for.

    The count is clamped to ``max_feasible_installments``, the down payment raised to its
    minimum (and dropped if it still does not fit), the first due date moved into
    ``today .. today + first_due_within_days``. When no plan fits at all, a full payment
    without discount.
    """
    due = _clamped_due_date(first_due_date, today, limits)
    longest = max_feasible_installments(balance, limits)
    down_payments: list[Decimal | None] = [None]
    if down_payment is not None:
        down_payments.insert(0, max(round_money(down_payment), limits.down_payment_min(balance)))
    for candidate in range(min(max(count, 2), longest), 1, -1):
        for first in down_payments:
            try:
                return installment_offer(
                    balance, candidate, today, limits, down_payment=first, first_due_date=due
                )
            except InfeasiblePlan:
                continue
    return full_payment_offer(balance, ZERO, today, limits, due_date=due)
