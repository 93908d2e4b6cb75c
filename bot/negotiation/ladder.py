"""The concession ladder: offers ordered from best for the creditor to worst.

Two rungs, each conceded one step at a time, never past the limits:

- full payment with discount ``0, step, 2*step, ...`` up to ``discount_max_percent``
  (the last step is exactly the maximum);
- installment plans of ``2, 3, ...`` up to ``max_feasible_installments`` payments.

Offers are built on demand, so a ladder is cheap to create for every decision.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.negotiation.offers import (
    Limits,
    Offer,
    full_payment_offer,
    installment_offer,
    is_feasible_count,
    max_feasible_installments,
)


def discount_steps(limits: Limits) -> tuple[Decimal, ...]:
    """``0, step, 2*step, ...`` below the maximum, then exactly the maximum."""
    steps = [Decimal("0")]
    while steps[-1] + limits.discount_step_percent < limits.discount_max_percent:
        steps.append(steps[-1] + limits.discount_step_percent)
    if steps[-1] < limits.discount_max_percent:
        steps.append(limits.discount_max_percent)
    return tuple(steps)


class ConcessionLadder:
    """Offers for one balance on one day under one set of limits."""

    def __init__(self, balance: Decimal, today: date, limits: Limits) -> None:
        self.balance = balance
        self.today = today
        self.limits = limits
        self.discounts = discount_steps(limits)
        self.installment_counts = tuple(
            count
            for count in range(2, max_feasible_installments(balance, limits) + 1)
            if is_feasible_count(balance, count, limits)
        )

    @property
    def first_offer(self) -> Offer:
        """The offer best for the creditor: full payment, no discount."""
        return self.discount_offer(self.discounts[0])

    @property
    def max_discount_offer(self) -> Offer:
        return self.discount_offer(self.discounts[-1])

    @property
    def longest_plan(self) -> Offer | None:
        """The plan with the most payments, or None when no plan fits the limits."""
        if not self.installment_counts:
            return None
        return self.installment_plan(self.installment_counts[-1])

    @property
    def offers_installments(self) -> bool:
        return bool(self.installment_counts)

    def discount_offer(self, discount_percent: Decimal) -> Offer:
        return full_payment_offer(self.balance, discount_percent, self.today, self.limits)

    def installment_plan(self, count: int) -> Offer:
        return installment_offer(self.balance, count, self.today, self.limits)

    def next_discount(self, after: Offer | None) -> Offer | None:
        """First discount step (0%) when ``after`` is None; else the first step with a larger
        discount than ``after``; None when already at the maximum."""
        if after is None:
            return self.first_offer
        for discount in self.discounts:
            if discount > after.discount_percent:
                return self.discount_offer(discount)
        return None

    def next_installments(self, after: Offer | None) -> Offer | None:
        """The shortest plan (2 payments) when ``after`` is None; else the plan with one more
        payment than ``after`` (a full payment counts as 1); None when at the limit."""
        floor = 1 if after is None else after.count
        for count in self.installment_counts:
            if count > floor:
                return self.installment_plan(count)
        return None

    def steps(self) -> tuple[Offer, ...]:
        """Every rung, best for the creditor first (discounts, then plans)."""
        return tuple(self.discount_offer(d) for d in self.discounts) + tuple(
            self.installment_plan(count) for count in self.installment_counts
        )
