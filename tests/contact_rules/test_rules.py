"""The pure contact rules: hours in the contact's zone, DST, holidays, caps, pauses, channels."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.cadence.calendar import contact_calendar, national_holidays
from bot.contact_rules import (
    CadenceStep,
    ContactCalendar,
    ContactOption,
    DebtFacts,
    HourWindow,
    SkipReason,
    cap_reason,
    choose_channel,
    current_step,
    due_windows,
    pause_reason,
)
from bot.policies.models import ContactRules, MaxContacts

SP = ZoneInfo("America/Sao_Paulo")
RULES = ContactRules(hours={"mon-fri": "08:00-20:00", "sat": "08:00-14:00"}, closed_dates=("2026-12-24",))
CALENDAR = ContactCalendar.from_rules(RULES, national_holidays("BR", 2026))
MONDAY = date(2026, 12, 7)


def at(day: date, hh: int, mm: int = 0, ss: int = 0, zone: ZoneInfo = SP) -> datetime:
    return datetime.combine(day, time(hh, mm, ss), tzinfo=zone)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (at(MONDAY, 7, 59, 59), at(MONDAY, 8)),  # before the window: moved to its start
        (at(MONDAY, 8), at(MONDAY, 8)),  # the start itself is allowed
        (at(MONDAY, 19, 59, 59), at(MONDAY, 19, 59, 59)),
        (at(MONDAY, 20), None),  # the end is not: outside_hours
    ],
)
def test_window_boundaries_are_exact(now: datetime, expected: datetime | None) -> None:
    decision = CALENDAR.decide_day(MONDAY, "America/Sao_Paulo", now)
    assert decision.at == expected
    assert decision.reason == (None if expected else SkipReason.OUTSIDE_HOURS)
    assert CALENDAR.is_allowed(now, "America/Sao_Paulo") is (expected == now)


def test_a_late_contact_moves_to_the_next_allowed_moment_not_dropped() -> None:
    friday_night = at(date(2026, 12, 11), 20, 0)
    # Saturday is open 08:00-14:00.
    assert CALENDAR.next_allowed(friday_night, "America/Sao_Paulo") == at(date(2026, 12, 12), 8)
    saturday_afternoon = at(date(2026, 12, 12), 14, 0)
    # Sunday closed, Monday 14th open.
    assert CALENDAR.next_allowed(saturday_afternoon, "America/Sao_Paulo") == at(date(2026, 12, 14), 8)
    # Christmas Eve (closed date) and Christmas (national holiday) are skipped.
    assert CALENDAR.next_allowed(at(date(2026, 12, 23), 21), "America/Sao_Paulo") == at(date(2026, 12, 26), 8)


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 12, 25), SkipReason.HOLIDAY),  # Christmas
        (date(2026, 4, 21), SkipReason.HOLIDAY),  # Tiradentes
        (date(2026, 11, 20), SkipReason.HOLIDAY),  # Consciência Negra (national since 2024)
        (date(2026, 12, 24), SkipReason.CLOSED_DAY),  # the policy's closed date
        (date(2026, 12, 13), SkipReason.CLOSED_DAY),  # a Sunday: no hours
        (date(2026, 12, 12), None),  # a Saturday with hours
    ],
)
def test_holidays_and_closed_days(day: date, reason: SkipReason | None) -> None:
    assert CALENDAR.day_reason(day) == reason
    assert CALENDAR.decide_day(day, "America/Sao_Paulo", at(day, 0)).reason == reason


def test_holidays_off_in_the_policy_means_holidays_are_ordinary_days() -> None:
    rules = ContactRules(holidays=None)
    calendar = ContactCalendar.from_rules(rules, national_holidays("BR", 2026))
    assert calendar.day_reason(date(2026, 12, 25)) is None  # a Friday


@pytest.mark.parametrize(
    ("zone", "utc_hour", "offset"),
    [
        ("America/Sao_Paulo", 11, "-03:00"),
        ("America/Manaus", 12, "-04:00"),
        ("America/Noronha", 10, "-02:00"),
        ("America/Rio_Branco", 13, "-05:00"),
    ],
)
def test_the_window_is_in_the_contacts_own_zone(zone: str, utc_hour: int, offset: str) -> None:
    decision = CALENDAR.decide_day(MONDAY, zone, datetime(2026, 12, 7, 0, 0, tzinfo=UTC))
    assert decision.at is not None
    assert decision.at.astimezone(UTC).hour == utc_hour
    assert decision.at.isoformat() == f"2026-12-07T08:00:00{offset}"


def test_same_utc_moment_is_inside_hours_in_one_zone_and_not_in_another() -> None:
    moment = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)  # 08:30 São Paulo, 07:30 Manaus
    assert CALENDAR.is_allowed(moment, "America/Sao_Paulo")
    assert not CALENDAR.is_allowed(moment, "America/Manaus")
    assert CALENDAR.next_allowed(moment, "America/Manaus") == at(MONDAY, 8, zone=ZoneInfo("America/Manaus"))


def test_sao_paulo_historic_dst_start_skips_the_missing_hour() -> None:
    # 2018-11-04 (Sunday): clocks jumped from 00:00 to 01:00 in São Paulo.
    calendar = ContactCalendar({6: HourWindow(time(0, 0), time(2, 0))})
    slot = calendar.slot(date(2018, 11, 4), "America/Sao_Paulo")
    assert slot is not None
    assert slot.start.isoformat() == "2018-11-04T01:00:00-02:00"  # the first instant that exists
    assert slot.end.isoformat() == "2018-11-04T02:00:00-02:00"
    assert (slot.end - slot.start) == timedelta(hours=1)


def test_sao_paulo_historic_dst_end_takes_the_earlier_of_a_repeated_end() -> None:
    # 2019-02-17 00:00 (-02:00) became 2019-02-16 23:00 (-03:00): 23:00-23:59 happened twice.
    calendar = ContactCalendar({5: HourWindow(time(22, 0), time(23, 30))})
    slot = calendar.slot(date(2019, 2, 16), "America/Sao_Paulo")
    assert slot is not None
    assert slot.start.isoformat() == "2019-02-16T22:00:00-02:00"
    assert slot.end.isoformat() == "2019-02-16T23:30:00-02:00"  # the first 23:30, not the second
    repeated = datetime(2019, 2, 17, 2, 45, tzinfo=UTC)  # 23:45 of the second pass (-03:00)
    assert not calendar.is_allowed(repeated, "America/Sao_Paulo")


def test_an_ambiguous_start_takes_its_later_occurrence() -> None:
    calendar = ContactCalendar({5: HourWindow(time(23, 15), time(23, 59))})
    slot = calendar.slot(date(2019, 2, 16), "America/Sao_Paulo")
    # Wholly inside the repeated hour: the second pass, never both.
    assert slot is not None
    assert slot.start.isoformat() == "2019-02-16T23:15:00-03:00"
    assert slot.end.isoformat() == "2019-02-16T23:59:00-03:00"
    later = ContactCalendar({5: HourWindow(time(23, 15), time(23, 59)), 6: HourWindow(time(8), time(9))})
    first_pass = datetime(2019, 2, 17, 1, 20, tzinfo=UTC)  # 23:20 (-02:00), first pass
    assert not later.is_allowed(first_pass, "America/Sao_Paulo")
    assert later.next_allowed(first_pass, "America/Sao_Paulo") == slot.start


def test_manaus_has_no_dst_even_when_sao_paulo_had() -> None:
    calendar = ContactCalendar({6: HourWindow(time(8, 0), time(20, 0))})
    slot = calendar.slot(date(2018, 11, 4), "America/Manaus")
    assert slot is not None and slot.start.isoformat() == "2018-11-04T08:00:00-04:00"


@pytest.mark.parametrize(
    ("today", "week", "reason"),
    [
        (0, 0, None),
        (0, 2, None),
        (1, 1, SkipReason.CAP_PER_DAY),
        (0, 3, SkipReason.CAP_PER_7_DAYS),
    ],
)
def test_caps(today: int, week: int, reason: SkipReason | None) -> None:
    assert cap_reason(MaxContacts(per_day=1, per_7_days=3), today, week) == reason


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (DebtFacts(), None),
        (DebtFacts(debt_status="paid"), SkipReason.PAID),
        (DebtFacts(unpaid=False), SkipReason.PAID),
        (DebtFacts(debt_status="disputed"), SkipReason.DISPUTE),
        (DebtFacts(debt_status="in_agreement"), SkipReason.AGREEMENT),
        (DebtFacts(active_agreement=True), SkipReason.AGREEMENT),
        (DebtFacts(pending_promise=True), SkipReason.AGREEMENT),
        (DebtFacts(human_owned=True), SkipReason.HUMAN),
        (DebtFacts(already_paid_reported_on=MONDAY - timedelta(days=4)), SkipReason.PAID),
        (DebtFacts(already_paid_reported_on=MONDAY - timedelta(days=5)), None),  # the pause ran out
    ],
)
def test_every_pause_reason(facts: DebtFacts, reason: SkipReason | None) -> None:
    assert pause_reason(facts, MONDAY, already_paid_pause_days=5) == reason


def test_channel_choice_falls_back_in_the_steps_order() -> None:
    contacts = [
        ContactOption(1, "whatsapp", "unreachable"),
        ContactOption(2, "sms", "active"),
        ContactOption(3, "telegram", "active"),
    ]
    choice = choose_channel(("whatsapp", "sms", "telegram"), contacts, {"whatsapp", "sms", "telegram"})
    assert choice.contact is not None and choice.contact.channel == "sms" and choice.rank == 1
    after_sms = choose_channel(
        ("whatsapp", "sms", "telegram"), contacts, {"whatsapp", "sms", "telegram"}, after_rank=1
    )
    assert after_sms.contact is not None and after_sms.contact.channel == "telegram"
    sms_off = choose_channel(("whatsapp", "sms"), contacts, {"whatsapp", "telegram"})
    assert sms_off.contact is None and sms_off.reason == SkipReason.NO_CHANNEL


@pytest.mark.parametrize(
    ("statuses", "reason"),
    [
        (("opted_out", "wrong_person"), SkipReason.OPTED_OUT),
        (("wrong_person",), SkipReason.WRONG_PERSON),
        (("unreachable",), SkipReason.NO_CHANNEL),
        ((), SkipReason.NO_CHANNEL),
    ],
)
def test_why_no_contact(statuses: tuple[str, ...], reason: SkipReason) -> None:
    contacts = [ContactOption(i, "whatsapp", s) for i, s in enumerate(statuses)]
    assert choose_channel(("whatsapp",), contacts, {"whatsapp"}).reason == reason


STEPS = [
    CadenceStep("gentle", 1, -3, "reminder_upcoming", ("whatsapp",)),
    CadenceStep("gentle", 2, 1, "overdue_first", ("whatsapp",)),
    CadenceStep("gentle", 3, 7, "overdue_offer", ("whatsapp",)),
]


# Two steps on the same day (a valid régua): the one listed last is current.
TIED = [
    CadenceStep("tied", 1, 2, "reminder_upcoming", ("whatsapp",)),
    CadenceStep("tied", 2, 2, "overdue_first", ("sms",)),
    CadenceStep("tied", 3, -1, "overdue_offer", ("whatsapp",)),
]


def test_of_steps_on_the_same_day_the_last_listed_is_current() -> None:
    assert current_step(TIED, date(2026, 12, 1), date(2026, 12, 3)) == TIED[1]


@given(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 1, 1)),
    st.dates(min_value=date(2024, 1, 1), max_value=date(2028, 1, 1)),
    st.sampled_from([STEPS, TIED]),
)
def test_due_windows_agree_with_the_current_step(due: date, day: date, steps: list[CadenceStep]) -> None:
    step = current_step(steps, due, day)
    matching = [
        w.step
        for w in due_windows(steps, day)
        if due <= w.due_until and (w.due_after is None or due > w.due_after)
    ]
    assert matching == ([step] if step else [])


def test_policy_calendar_reads_the_holidays_library() -> None:
    from pathlib import Path

    from bot.policies import load_policies

    policy = load_policies(Path(__file__).resolve().parents[2] / "policies")["demo"]
    assert contact_calendar(policy, MONDAY).day_reason(date(2027, 1, 1)) == SkipReason.HOLIDAY
