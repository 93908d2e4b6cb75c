"""Following up promises to pay and installment plans, day by day.

Given the facts of one day (agreements with their installments, promises, what was paid)
and the contact calendar, :func:`plan` returns what should happen, as data:

- **Installments**: a reminder on the last contact day before the due date; a polite
  follow-up on the first contact day after it while the delay is within the grace days;
  an installment more than ``agreement_grace_days`` late breaks the agreement (the debtor
  is told, the balance returns to the régua, renegotiation is offered). An agreement whose
  installments are all paid is kept.
- **Promises**: a reminder on the last contact day before the promised date; the promise is
  kept as soon as what was paid since it covers the promised amount (or the balance when no
  amount was said); unpaid more than ``promise_grace_days`` after the date, it is broken.
- **Held back**: a reminder the contact rules held back on its day (a contact cap, the
  hours, a person owning the conversation) is due again on each next contact day up to the
  due (or promised) date itself; a follow-up stays due on every contact day of the grace; the
  notice of a broken agreement held back goes on the next contact day. Keeping and breaking
  never wait for a contact.

Pure: standard library only, today's date is passed in, nothing is read or written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

ZERO = Decimal("0.00")
LOOKAHEAD_DAYS = 31


@dataclass(frozen=True)
class ContactCalendar:
    """Which days the bot may start a contact: open weekdays (0 = Monday), closed dates."""

    open_weekdays: frozenset[int]
    closed_dates: frozenset[date] = frozenset()

    def is_open(self, day: date) -> bool:
        return day.weekday() in self.open_weekdays and day not in self.closed_dates

    def next_open(self, after: date) -> date | None:
        """The first open day after ``after`` (``None`` if none within a month)."""
        for offset in range(1, LOOKAHEAD_DAYS + 1):
            day = after + timedelta(days=offset)
            if self.is_open(day):
                return day
        return None

    def last_call_before(self, today: date, deadline: date) -> bool:
        """Whether ``today`` is the last open day before ``deadline``."""
        if not today < deadline or not self.is_open(today):
            return False
        following = self.next_open(today)
        return following is None or following >= deadline


@dataclass(frozen=True)
class InstallmentFacts:
    id: int
    number: int
    due_date: date
    amount: Decimal
    paid_amount: Decimal = ZERO
    reminded: bool = False
    followed_up: bool = False
    reminder_held: bool = False  # the reminder was due and the contact rules held it back

    @property
    def open_amount(self) -> Decimal:
        return max(self.amount - self.paid_amount, ZERO)


@dataclass(frozen=True)
class AgreementFacts:
    id: int
    debtor_id: int
    grace_days: int
    installments: tuple[InstallmentFacts, ...]
    status: str = "active"
    notice_pending: bool = False  # broken, and the debtor was not told yet (held back)


@dataclass(frozen=True)
class PromiseFacts:
    id: int
    debtor_id: int
    promised_date: date
    target: Decimal  # the promised amount, or the balance when none was said
    paid_since: Decimal
    grace_days: int
    reminded: bool = False
    status: str = "pending"
    reminder_held: bool = False


# -- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemindInstallment:
    agreement_id: int
    debtor_id: int
    installment_id: int
    number: int
    due_date: date
    amount_due: Decimal


@dataclass(frozen=True)
class FollowUpInstallment:
    agreement_id: int
    debtor_id: int
    installment_id: int
    number: int
    due_date: date
    amount_due: Decimal
    days_late: int
    grace_days: int


@dataclass(frozen=True)
class BreakAgreement:
    agreement_id: int
    debtor_id: int
    installment_id: int
    days_late: int


@dataclass(frozen=True)
class NotifyBrokenAgreement:
    """Tell the debtor of an agreement that broke earlier (the notice was held back then)."""

    agreement_id: int
    debtor_id: int
    installment_id: int  # the oldest unpaid installment: the one that broke it


@dataclass(frozen=True)
class KeepAgreement:
    agreement_id: int
    debtor_id: int


@dataclass(frozen=True)
class RemindPromise:
    promise_id: int
    debtor_id: int
    promised_date: date
    amount_due: Decimal


@dataclass(frozen=True)
class KeepPromise:
    promise_id: int
    debtor_id: int


@dataclass(frozen=True)
class BreakPromise:
    """Recorded in the debtor's history; the régua resumes for the debtor."""

    promise_id: int
    debtor_id: int
    days_late: int


Decision = (RemindInstallment | FollowUpInstallment | BreakAgreement | NotifyBrokenAgreement
            | KeepAgreement | RemindPromise | KeepPromise | BreakPromise)


def reminder_due(calendar: ContactCalendar, today: date, deadline: date, held: bool) -> bool:
    """A reminder goes on the last contact day before ``deadline``; one held back then goes on
    the next contact day up to ``deadline`` itself (after it, the follow-up takes over)."""
    if calendar.last_call_before(today, deadline):
        return True
    return held and today <= deadline and calendar.is_open(today)


def plan_agreement(agreement: AgreementFacts, today: date,
                   calendar: ContactCalendar) -> list[Decision]:
    unpaid = sorted((i for i in agreement.installments if i.open_amount > 0),
                    key=lambda i: (i.due_date, i.number))
    if agreement.status == "broken" and agreement.notice_pending:
        if unpaid and calendar.is_open(today):
            return [NotifyBrokenAgreement(agreement.id, agreement.debtor_id, unpaid[0].id)]
        return []
    if agreement.status != "active":
        return []
    if not unpaid:
        return [KeepAgreement(agreement.id, agreement.debtor_id)]
    decisions: list[Decision] = []
    for item in unpaid:
        days_late = (today - item.due_date).days
        if days_late > agreement.grace_days:
            return [BreakAgreement(agreement.id, agreement.debtor_id, item.id, days_late)]
        if days_late >= 1 and not item.followed_up and calendar.is_open(today):
            decisions.append(FollowUpInstallment(
                agreement.id, agreement.debtor_id, item.id, item.number, item.due_date,
                item.open_amount, days_late, agreement.grace_days))
        elif (days_late <= 0 and not item.reminded
              and reminder_due(calendar, today, item.due_date, item.reminder_held)):
            decisions.append(RemindInstallment(agreement.id, agreement.debtor_id, item.id,
                                               item.number, item.due_date, item.open_amount))
    return decisions


def plan_promise(promise: PromiseFacts, today: date, calendar: ContactCalendar) -> list[Decision]:
    if promise.status != "pending":
        return []
    if promise.paid_since >= promise.target:
        return [KeepPromise(promise.id, promise.debtor_id)]
    days_late = (today - promise.promised_date).days
    if days_late > promise.grace_days:
        return [BreakPromise(promise.id, promise.debtor_id, days_late)]
    if not promise.reminded and reminder_due(calendar, today, promise.promised_date,
                                             promise.reminder_held):
        return [RemindPromise(promise.id, promise.debtor_id, promise.promised_date,
                              promise.target - promise.paid_since)]
    return []


def plan(agreements: Iterable[AgreementFacts], promises: Iterable[PromiseFacts], today: date,
         calendar: ContactCalendar) -> list[Decision]:
    """Every decision for ``today``: agreements first, then promises, in input order."""
    decisions: list[Decision] = []
    for agreement in agreements:
        decisions += plan_agreement(agreement, today, calendar)
    for promise in promises:
        decisions += plan_promise(promise, today, calendar)
    return decisions


@dataclass(frozen=True)
class Allocation:
    """How a payment splits over installments (oldest first) and what is left over."""

    parts: tuple[tuple[int, Decimal], ...] = ()
    leftover: Decimal = ZERO
    applied: Mapping[int, Decimal] = field(default_factory=dict)


def allocate(amount: Decimal, installments: Sequence[InstallmentFacts]) -> Allocation:
    """Allocate ``amount`` to the unpaid installments, oldest due date (then number) first."""
    if amount <= 0:
        raise ValueError(f"a payment must be positive, got {amount}")
    remaining = amount
    parts: list[tuple[int, Decimal]] = []
    for item in sorted(installments, key=lambda i: (i.due_date, i.number)):
        if remaining <= 0:
            break
        applied = min(item.open_amount, remaining)
        if applied > 0:
            parts.append((item.id, applied))
            remaining -= applied
    return Allocation(tuple(parts), remaining, dict(parts))
