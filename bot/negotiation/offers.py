"""Concrete payment offers (full payment or installment plans) built inside hard limits.

Formulas (all money ``Decimal``, rounded half up to cents unless said otherwise):

- Full payment: ``total = balance * (100 - discount_percent) / 100``, one payment due on
  ``today + min(3, first_due_within_days)`` (a cash offer should be paid promptly; the
  policy's ``first_due_within_days`` is the latest it may be) unless a due date is given.
- Installment plan of ``n`` payments (down payment included), interval ``i`` days::

      months   = (n - 1) * i / 30
      factor   = monthly_interest_percent / 100 * months
      financed = balance - down_payment
      total    = balance + round(financed * factor)

  i.e. simple interest on the whole financed part for the whole term after the down
  payment. The default down payment makes all payments (almost) equal::

      down_payment = max(ceil_cents(balance * down_payment_min_percent / 100),
                         round(balance * (1 + factor) / (n + factor)))

  The other ``n - 1`` payments split ``total - down_payment`` evenly (rounded down to
  cents, the last absorbs the leftover cents; see ``split_amount``), due every ``i`` days
  after the first due date.
- Minimums: the down payment minimum is a share of the BALANCE (the policy schema), rounded UP
  to cents. Every payment of an installment plan is >= ``installment_min_amount`` (and
  >= R$ 0,01). A full payment is a single payment settling the whole debt and is not an
  installment: it is exempt from ``installment_min_amount``. A balance below
  ``installment_min_amount`` gets no plan at all (whatever the interest would add): it is
  settled in one payment.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.negotiation.money import CENT, percent_of, round_money, round_money_up, split_amount
from bot.policies.models import AgentLimits, Hardship, NegotiationProfile

PROMPT_PAYMENT_DAYS = 3
"""A cash offer (or the first payment of a plan, by default) is due within this many days."""

DAYS_PER_MONTH = 30
REFERENCE_CHARS = 12
ZERO = Decimal("0")


class Installment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    number: Annotated[int, Field(ge=1)]
    due_date: date
    amount: Decimal


class Offer(BaseModel):
    """A concrete payment plan. ``total`` is exactly the sum of the installments."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["full_payment", "installments"]
    balance: Decimal
    total: Decimal
    discount_percent: Decimal
    monthly_interest_percent: Decimal
    installments: tuple[Installment, ...] = Field(min_length=1)
    created_by: Literal["bot", "agent"] = "bot"

    @model_validator(mode="after")
    def _consistent_schedule(self) -> Self:
        if sum((item.amount for item in self.installments), ZERO) != self.total:
            raise ValueError("installments must sum exactly to the total")
        if [item.number for item in self.installments] != list(
            range(1, len(self.installments) + 1)
        ):
            raise ValueError("installments must be numbered 1..n")
        dates = [item.due_date for item in self.installments]
        if dates != sorted(dates):
            raise ValueError("installment due dates must not go backwards")
        if self.kind == "full_payment" and len(self.installments) != 1:
            raise ValueError("a full payment has exactly one installment")
        return self

    @property
    def count(self) -> int:
        return len(self.installments)

    @property
    def reference(self) -> str:
        """A short id of exactly these terms (kind, amounts, dates, author).

        Accept buttons carry it, so that a button under an older offer cannot accept
        the current one; the same terms offered again have the same reference.
        """
        digest = hashlib.sha256(self.model_dump_json().encode()).hexdigest()
        return digest[:REFERENCE_CHARS]

    @property
    def down_payment(self) -> Decimal:
        """Amount of the first installment (the whole total for a full payment)."""
        return self.installments[0].amount

    @property
    def first_due_date(self) -> date:
        return self.installments[0].due_date


class Limits(BaseModel):
    """Hard limits an offer must respect (the bot's, or a human agent's)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    discount_max_percent: Annotated[Decimal, Field(ge=0, le=100)]
    installments_max: Annotated[int, Field(ge=1)]
    installment_min_amount: Annotated[Decimal, Field(ge=0)]
    down_payment_min_percent: Annotated[Decimal, Field(ge=0, le=100)]
    monthly_interest_percent: Annotated[Decimal, Field(ge=0)]
    first_due_within_days: Annotated[int, Field(ge=0)]
    installment_interval_days: Annotated[int, Field(ge=1)] = 30
    discount_step_percent: Annotated[Decimal, Field(gt=0)] = Decimal("2.5")
    # Days from today to the default due date of a full payment or a plan's first payment
    # (None: PROMPT_PAYMENT_DAYS); never later than ``first_due_within_days``.
    default_first_due_days: Annotated[int, Field(ge=0)] | None = None

    @classmethod
    def for_bot(cls, profile: NegotiationProfile) -> Limits:
        return cls(
            discount_max_percent=profile.full_payment_discount_max_percent,
            installments_max=profile.installments_max,
            installment_min_amount=profile.installment_min_amount,
            down_payment_min_percent=profile.down_payment_min_percent,
            monthly_interest_percent=profile.monthly_interest_percent,
            first_due_within_days=profile.first_due_within_days,
            installment_interval_days=profile.installment_interval_days,
            discount_step_percent=profile.discount_step_percent,
        )

    @classmethod
    def for_agent(cls, profile: NegotiationProfile, agent: AgentLimits) -> Limits:
        """A human agent may go further than the bot, never less far."""
        bot = cls.for_bot(profile)
        return bot.model_copy(
            update={
                "discount_max_percent": max(
                    bot.discount_max_percent, agent.full_payment_discount_max_percent
                ),
                "installments_max": max(bot.installments_max, agent.installments_max),
            }
        )

    @classmethod
    def for_hardship(cls, profile: NegotiationProfile, hardship: Hardship) -> Limits:
        """The hardship path: a longer plan and a deferred first payment when the policy's
        ``hardship:`` allows them; never less than the bot's own limits."""
        bot = cls.for_bot(profile)
        deferral = hardship.first_installment_deferral_days
        update: dict[str, object] = {
            "installments_max": max(bot.installments_max, hardship.max_installments or 0),
            "first_due_within_days": max(bot.first_due_within_days, deferral),
        }
        if deferral > min(PROMPT_PAYMENT_DAYS, bot.first_due_within_days):
            update["default_first_due_days"] = deferral
        return bot.model_copy(update=update)

    @property
    def smallest_payment(self) -> Decimal:
        """No installment of a plan may be below this."""
        return max(self.installment_min_amount, CENT)

    def latest_first_due_date(self, today: date) -> date:
        return today + timedelta(days=self.first_due_within_days)

    def prompt_due_date(self, today: date) -> date:
        """Default due date of a full payment and of a plan's first payment."""
        days = PROMPT_PAYMENT_DAYS if self.default_first_due_days is None else self.default_first_due_days
        return today + timedelta(days=min(days, self.first_due_within_days))

    def down_payment_min(self, balance: Decimal) -> Decimal:
        """Smallest allowed down payment: a share of the balance, rounded up to cents."""
        return round_money_up(percent_of(balance, self.down_payment_min_percent))


class InfeasiblePlan(ValueError):
    """The requested plan cannot respect the limits. ``reasons`` are reason codes."""

    def __init__(self, reasons: tuple[str, ...]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


def _require_positive(balance: Decimal) -> None:
    if balance <= 0:
        raise ValueError(f"nothing to negotiate: balance is {balance}")


def full_payment_offer(
    balance: Decimal,
    discount_percent: Decimal,
    today: date,
    limits: Limits,
    *,
    due_date: date | None = None,
) -> Offer:
    """One payment of ``balance * (1 - discount)``, due ``due_date`` or promptly.

    Raises ``ValueError`` when the discount is negative or above the limit, or when the due
    date is in the past or later than ``today + first_due_within_days``.
    """
    _require_positive(balance)
    if discount_percent < 0 or discount_percent > limits.discount_max_percent:
        raise ValueError(
            f"discount {discount_percent}% is outside 0..{limits.discount_max_percent}%"
        )
    due = limits.prompt_due_date(today) if due_date is None else due_date
    latest = limits.latest_first_due_date(today)
    if not today <= due <= latest:
        raise ValueError(f"due date {due} is outside {today}..{latest}")
    total = round_money(percent_of(balance, Decimal(100) - discount_percent))
    return Offer(
        kind="full_payment",
        balance=balance,
        total=total,
        discount_percent=discount_percent,
        monthly_interest_percent=ZERO,
        installments=(Installment(number=1, due_date=due, amount=total),),
    )


@dataclass(frozen=True, slots=True)
class PlanAmounts:
    """Amounts of an installment plan before dates are attached."""

    total: Decimal
    amounts: tuple[Decimal, ...]


def interest_factor(count: int, limits: Limits) -> Decimal:
    """``monthly_interest_percent / 100 * months`` for a plan of ``count`` payments."""
    months = Decimal((count - 1) * limits.installment_interval_days) / DAYS_PER_MONTH
    return limits.monthly_interest_percent / Decimal(100) * months


def even_down_payment(balance: Decimal, count: int, limits: Limits) -> Decimal:
    """Down payment that makes every payment of the plan (almost) equal."""
    factor = interest_factor(count, limits)
    return round_money(balance * (1 + factor) / (count + factor))


def default_down_payment(balance: Decimal, count: int, limits: Limits) -> Decimal:
    return max(limits.down_payment_min(balance), even_down_payment(balance, count, limits))


def plan_amounts(
    balance: Decimal, count: int, limits: Limits, down_payment: Decimal | None = None
) -> PlanAmounts:
    """Total and amounts of a plan (no limit checks; ``down_payment`` must be < balance)."""
    first = default_down_payment(balance, count, limits) if down_payment is None else down_payment
    financed = balance - first
    total = balance + round_money(financed * interest_factor(count, limits))
    return PlanAmounts(total=total, amounts=tuple(split_amount(total, count, first=first)))


def installment_offer(
    balance: Decimal,
    count: int,
    today: date,
    limits: Limits,
    *,
    down_payment: Decimal | None = None,
    first_due_date: date | None = None,
) -> Offer:
    """A plan of ``count`` payments (down payment included) that respects every limit.

    ``count == 1`` is a full payment without discount. Raises ``InfeasiblePlan`` with every
    applicable reason code (see ``docs/negotiation.md``) when the limits cannot be met.
    """
    _require_positive(balance)
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    first_due = limits.prompt_due_date(today) if first_due_date is None else first_due_date
    reasons = _schedule_reasons(count, first_due, today, limits)
    if count == 1:
        reasons += _single_payment_reasons(balance, down_payment)
        if reasons:
            raise InfeasiblePlan(tuple(reasons))
        return full_payment_offer(balance, ZERO, today, limits, due_date=first_due)
    if down_payment is not None:
        down_payment = round_money(down_payment)
        if down_payment < limits.down_payment_min(balance):
            reasons.append("down_payment_below_min")
        if down_payment >= balance:
            reasons.append("down_payment_above_balance")
            raise InfeasiblePlan(tuple(reasons))
    if count > limits.installments_max:
        raise InfeasiblePlan(tuple(reasons))  # no schedule is computed for absurd counts
    plan = plan_amounts(balance, count, limits, down_payment)
    if min(plan.amounts) < limits.smallest_payment or balance < limits.installment_min_amount:
        reasons.append("installment_below_min")
    if reasons:
        raise InfeasiblePlan(tuple(reasons))
    interval = timedelta(days=limits.installment_interval_days)
    return Offer(
        kind="installments",
        balance=balance,
        total=plan.total,
        discount_percent=ZERO,
        monthly_interest_percent=limits.monthly_interest_percent,
        installments=tuple(
            Installment(number=index + 1, due_date=first_due + interval * index, amount=amount)
            for index, amount in enumerate(plan.amounts)
        ),
    )


def _schedule_reasons(count: int, first_due: date, today: date, limits: Limits) -> list[str]:
    """The reasons a plan's count or first due date crosses the limits."""
    reasons: list[str] = []
    if count > limits.installments_max:
        reasons.append("installments_above_max")
    if first_due > limits.latest_first_due_date(today):
        reasons.append("first_due_too_late")
    if first_due < today:
        reasons.append("first_due_in_past")
    return reasons


def _single_payment_reasons(balance: Decimal, down_payment: Decimal | None) -> list[str]:
    """A one-payment plan's down payment, if given, is the whole balance."""
    if down_payment is None or round_money(down_payment) == balance:
        return []
    if round_money(down_payment) > balance:
        return ["down_payment_above_balance"]
    return ["down_payment_below_min"]


def is_feasible_count(balance: Decimal, count: int, limits: Limits) -> bool:
    """Whether a plan of ``count`` payments with the default down payment fits the limits."""
    if count == 1:
        return True
    if count > limits.installments_max or balance < limits.installment_min_amount:
        return False
    return min(plan_amounts(balance, count, limits).amounts) >= limits.smallest_payment


def max_feasible_installments(balance: Decimal, limits: Limits) -> int:
    """Largest count <= ``installments_max`` whose default plan respects the minimums (>= 1)."""
    _require_positive(balance)
    for count in range(limits.installments_max, 1, -1):
        if is_feasible_count(balance, count, limits):
            return count
    return 1


def offer_violations(offer: Offer, today: date, limits: Limits) -> tuple[str, ...]:
    """Reason codes for every hard limit ``offer`` crosses under ``limits`` on ``today``.

    Empty when the offer may be agreed today. Used before recording an agreement (an offer
    made on an earlier day, or under other limits, may have gone stale) and by the tests.
    """
    reasons: list[str] = []
    if offer.first_due_date < today:
        reasons.append("first_due_in_past")
    if offer.first_due_date > limits.latest_first_due_date(today):
        reasons.append("first_due_too_late")
    if offer.kind == "full_payment":
        if offer.discount_percent > limits.discount_max_percent:
            reasons.append("discount_above_max")
        floor = round_money(percent_of(offer.balance, 100 - limits.discount_max_percent))
        if offer.total < floor:
            reasons.append("amount_below_balance")
        return tuple(reasons)
    if offer.count > limits.installments_max:
        reasons.append("installments_above_max")
    if offer.discount_percent > 0:
        reasons.append("discount_above_max")
    if offer.down_payment < limits.down_payment_min(offer.balance):
        reasons.append("down_payment_below_min")
    if any(item.amount < limits.smallest_payment for item in offer.installments):
        reasons.append("installment_below_min")
    if offer.total < offer.balance:
        reasons.append("amount_below_balance")
    return tuple(reasons)
