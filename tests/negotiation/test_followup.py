"""Promise and installment follow-up with a controlled clock: reminders, follow-ups, grace edges."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from bot.negotiation.followup import (
    AgreementFacts,
    BreakAgreement,
    BreakPromise,
    ContactCalendar,
    FollowUpInstallment,
    InstallmentFacts,
    KeepAgreement,
    KeepPromise,
    PromiseFacts,
    RemindPromise,
    allocate,
    plan,
)

WEEKDAYS_AND_SATURDAY = ContactCalendar(frozenset(range(6)))
D = Decimal
# 2026-12-07 is a Monday.
MON = date(2026, 12, 7)


def installment(id: int, due: date, amount: str = "100.00", paid: str = "0.00", **kw: bool
                ) -> InstallmentFacts:
    return InstallmentFacts(id=id, number=id, due_date=due, amount=D(amount), paid_amount=D(paid), **kw)


def agreement(*items: InstallmentFacts, grace: int = 5) -> AgreementFacts:
    return AgreementFacts(id=1, debtor_id=9, grace_days=grace, installments=items)


def kinds(decisions: list[object]) -> list[str]:
    return [type(d).__name__ for d in decisions]


@pytest.mark.parametrize(("today", "expected"), [
    (MON + timedelta(days=1), []),                      # Tuesday, due Thursday: not yet
    (MON + timedelta(days=2), ["RemindInstallment"]),   # Wednesday: the day before
    (MON + timedelta(days=3), []),                      # due day: nothing
    (MON + timedelta(days=4), ["FollowUpInstallment"]),  # one day late: polite follow-up
])
def test_installment_reminder_before_and_follow_up_after(today: date, expected: list[str]) -> None:
    thursday = MON + timedelta(days=3)
    assert kinds(plan([agreement(installment(1, thursday))], [], today, WEEKDAYS_AND_SATURDAY)) == expected


def test_reminder_moves_to_the_last_open_day_before_the_due_date() -> None:
    tuesday = MON + timedelta(days=1)
    calendar = ContactCalendar(frozenset(range(5)), frozenset({MON}))  # Monday is a holiday
    a = agreement(installment(1, tuesday))
    friday = MON - timedelta(days=3)
    assert kinds(plan([a], [], friday, calendar)) == ["RemindInstallment"]
    assert kinds(plan([a], [], MON, calendar)) == []  # closed: no contact
    saturday = MON - timedelta(days=2)
    assert kinds(plan([a], [], saturday, calendar)) == []


def test_no_repeat_once_reminded_or_followed_up_and_nothing_for_a_paid_installment() -> None:
    due = MON + timedelta(days=1)
    assert plan([agreement(installment(1, due, reminded=True))], [], MON, WEEKDAYS_AND_SATURDAY) == []
    late = agreement(installment(1, due, followed_up=True), installment(2, due + timedelta(days=30)))
    assert plan([late], [], due + timedelta(days=2), WEEKDAYS_AND_SATURDAY) == []
    paid = agreement(installment(1, due, paid="100.00"), installment(2, due + timedelta(days=30)))
    assert plan([paid], [], due + timedelta(days=2), WEEKDAYS_AND_SATURDAY) == []


@pytest.mark.parametrize(("days_late", "broken"), [(4, False), (5, False), (6, True)])
def test_agreement_breaks_only_beyond_the_grace_days(days_late: int, broken: bool) -> None:
    due = date(2026, 12, 1)
    a = agreement(installment(1, due, followed_up=True), grace=5)
    decisions = plan([a], [], due + timedelta(days=days_late), WEEKDAYS_AND_SATURDAY)
    assert (decisions == [BreakAgreement(1, 9, 1, days_late)]) is broken
    if not broken:
        assert decisions == []


def test_zero_grace_days_breaks_the_day_after() -> None:
    due = date(2026, 12, 1)
    assert kinds(plan([agreement(installment(1, due), grace=0)], [], due, WEEKDAYS_AND_SATURDAY)) == []
    assert kinds(plan([agreement(installment(1, due), grace=0)], [], due + timedelta(days=1),
                      WEEKDAYS_AND_SATURDAY)) == ["BreakAgreement"]


def test_partially_paid_installment_is_still_followed_up_for_what_is_left() -> None:
    due = date(2026, 12, 1)  # a Tuesday
    [decision] = plan([agreement(installment(1, due, paid="60.00"))], [], due + timedelta(days=1),
                      WEEKDAYS_AND_SATURDAY)
    assert isinstance(decision, FollowUpInstallment) and decision.amount_due == D("40.00")
    assert decision.days_late == 1 and decision.grace_days == 5


def test_fully_paid_agreement_is_kept() -> None:
    a = agreement(installment(1, MON, paid="100.00"), installment(2, MON + timedelta(days=30), paid="100.00"))
    assert plan([a], [], MON, WEEKDAYS_AND_SATURDAY) == [KeepAgreement(1, 9)]
    inactive = AgreementFacts(1, 9, 5, a.installments, status="broken")
    assert plan([inactive], [], MON, WEEKDAYS_AND_SATURDAY) == []


def promise(date_: date, target: str = "500.00", paid: str = "0.00", grace: int = 2,
            reminded: bool = False) -> PromiseFacts:
    return PromiseFacts(id=3, debtor_id=9, promised_date=date_, target=D(target), paid_since=D(paid),
                        grace_days=grace, reminded=reminded)


@pytest.mark.parametrize(("offset", "expected"), [
    (-2, []), (-1, ["RemindPromise"]), (0, []), (1, []), (2, []), (3, ["BreakPromise"]),
])
def test_promise_lifecycle_around_the_grace_days(offset: int, expected: list[str]) -> None:
    thursday = MON + timedelta(days=3)
    assert kinds(plan([], [promise(thursday)], thursday + timedelta(days=offset),
                      WEEKDAYS_AND_SATURDAY)) == expected


def test_promise_kept_when_payments_cover_it_even_on_the_last_grace_day() -> None:
    thursday = MON + timedelta(days=3)
    assert plan([], [promise(thursday, paid="500.00")], thursday + timedelta(days=2),
                WEEKDAYS_AND_SATURDAY) == [KeepPromise(3, 9)]
    partial = plan([], [promise(thursday, paid="499.99")], thursday + timedelta(days=3),
                   WEEKDAYS_AND_SATURDAY)
    assert partial == [BreakPromise(3, 9, 3)]
    [reminder] = plan([], [promise(thursday, paid="200.00")], thursday - timedelta(days=1),
                      WEEKDAYS_AND_SATURDAY)
    assert reminder == RemindPromise(3, 9, thursday, D("300.00"))


def test_allocation_pays_the_oldest_installment_first() -> None:
    items = [installment(2, date(2027, 1, 1), "300.00"), installment(1, date(2026, 12, 1), "300.00",
                                                                       paid="100.00"),
             installment(3, date(2027, 2, 1), "300.00")]
    result = allocate(D("450.00"), items)
    assert result.parts == ((1, D("200.00")), (2, D("250.00")))
    assert result.leftover == D("0.00")
    over = allocate(D("1000.00"), items)
    assert over.parts == ((1, D("200.00")), (2, D("300.00")), (3, D("300.00")))
    assert over.leftover == D("200.00")
    with pytest.raises(ValueError):
        allocate(D("0"), items)
