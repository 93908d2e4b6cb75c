"""When the bot may start a contact, and why it may not.

Pure: the standard library and the policy models only. No clock is read (``now`` is
passed in) and the national holidays come in as dates (the service layer asks the
``holidays`` library for them), so every rule is a plain function of its inputs.

All moments are judged in the debtor contact's own time zone:

- a **day** is closed when its weekday has no hours in the policy (``closed_day``), when
  it is a national holiday (``holiday``) or one of the policy's ``closed_dates``
  (``closed_day``);
- on an open day the **window** is ``[start, end)`` local time: a contact at ``start``
  is allowed, one at ``end`` is not. Across a daylight-saving change the window is
  taken conservatively: a start that does not exist (the clock jumps over it) becomes
  the first instant after the jump; an ambiguous start (the clock repeats it) its later
  occurrence, an ambiguous end its earlier one (a window wholly inside the repeated hour
  takes its second pass);
- a contact planned outside the window is **moved** to the next allowed moment
  (:meth:`ContactCalendar.next_allowed`), never dropped;
- **caps** count bot-initiated contacts per debtor across all channels, per local day
  and per rolling 7 local days (today and the 6 days before): the régua's reminders and
  the follow-up's (installment and promise reminders, broken-agreement notices) alike;
- **pauses**: a debt paid, disputed or under an agreement or a pending promise, a
  conversation a person owns, a payment claim waiting for an agent, a recent "already
  paid" that no payment confirmed and no rejected claim answered;
- **contacts**: never a contact that opted out, is the wrong person or is unreachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from bot.policies.models import ContactRules, MaxContacts

LOOKAHEAD_DAYS = 366


class SkipReason(StrEnum):
    """Why a due contact is not made (the reasons ``acordo cadence preview`` reports)."""

    CLOSED_DAY = "closed_day"
    HOLIDAY = "holiday"
    OUTSIDE_HOURS = "outside_hours"
    CAP_PER_DAY = "cap_per_day"
    CAP_PER_7_DAYS = "cap_per_7_days"
    OPTED_OUT = "opted_out"
    WRONG_PERSON = "wrong_person"
    DISPUTE = "dispute"
    HUMAN = "human"
    AGREEMENT = "agreement"
    PAID = "paid"
    NO_CHANNEL = "no_channel"


# The order reasons are checked in: the first that applies is the one recorded.
REASON_ORDER: tuple[SkipReason, ...] = (
    SkipReason.PAID,
    SkipReason.DISPUTE,
    SkipReason.AGREEMENT,
    SkipReason.HUMAN,
    SkipReason.OPTED_OUT,
    SkipReason.WRONG_PERSON,
    SkipReason.NO_CHANNEL,
    SkipReason.HOLIDAY,
    SkipReason.CLOSED_DAY,
    SkipReason.OUTSIDE_HOURS,
    SkipReason.CAP_PER_DAY,
    SkipReason.CAP_PER_7_DAYS,
)


@dataclass(frozen=True)
class HourWindow:
    start: time
    end: time


@dataclass(frozen=True)
class Slot:
    """The allowed interval ``[start, end)`` of one local day, as aware datetimes in the zone.

    Compared in UTC: Python ignores ``fold`` when both sides share a zone, which would
    confuse the repeated hour of a daylight-saving change.
    """

    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        instant = moment.astimezone(UTC)
        return self.start.astimezone(UTC) <= instant < self.end.astimezone(UTC)


@dataclass(frozen=True)
class DayDecision:
    """What a day means for a contact in one zone: the time it would go out, or why not."""

    at: datetime | None
    reason: SkipReason | None

    @property
    def allowed(self) -> bool:
        return self.at is not None


def _instant(day: date, clock_time: time, zone: ZoneInfo, fold: int) -> datetime:
    """The UTC instant of local ``day clock_time`` (``fold`` picks an occurrence)."""
    return datetime.combine(day, clock_time).replace(fold=fold, tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class ContactCalendar:
    """Open weekdays with their hours (0 = Monday), national holidays and closed dates."""

    windows: Mapping[int, HourWindow]
    holidays: frozenset[date] = frozenset()
    closed_dates: frozenset[date] = frozenset()

    @classmethod
    def from_rules(cls, rules: ContactRules, holidays: Iterable[date] = ()) -> ContactCalendar:
        """The policy's calendar; ``holidays`` are the national ones (ignored unless ``holidays: BR``)."""
        windows = {day: HourWindow(w.start, w.end) for day, w in rules.windows().items()}
        national = frozenset(holidays) if rules.holidays else frozenset()
        closed = frozenset(date.fromisoformat(d) for d in rules.closed_dates)
        return cls(windows, national, closed)

    def day_reason(self, day: date) -> SkipReason | None:
        """``holiday`` or ``closed_day`` when no contact may start on ``day``, else ``None``."""
        if day in self.holidays:
            return SkipReason.HOLIDAY
        if day in self.closed_dates or day.weekday() not in self.windows:
            return SkipReason.CLOSED_DAY
        return None

    def slot(self, day: date, zone: str | ZoneInfo) -> Slot | None:
        """The allowed interval of ``day`` in ``zone`` (``None`` on a closed day or holiday)."""
        if self.day_reason(day) is not None:
            return None
        tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        window = self.windows[day.weekday()]
        start = max(_instant(day, window.start, tz, 0), _instant(day, window.start, tz, 1))
        end = min(_instant(day, window.end, tz, 0), _instant(day, window.end, tz, 1))
        if end <= start:  # the whole window lies in a repeated hour: its second pass
            start, end = _instant(day, window.start, tz, 1), _instant(day, window.end, tz, 1)
        if end <= start:
            return None
        return Slot(start.astimezone(tz), end.astimezone(tz))

    def decide_day(self, day: date, zone: str | ZoneInfo, now: datetime) -> DayDecision:
        """When a contact due on local ``day`` goes out, given ``now`` (aware): the window's
        start, or ``now`` inside it; ``outside_hours`` once the window is over."""
        reason = self.day_reason(day)
        if reason is not None:
            return DayDecision(None, reason)
        slot = self.slot(day, zone)
        if slot is None:
            return DayDecision(None, SkipReason.OUTSIDE_HOURS)
        instant = now.astimezone(UTC)
        if instant >= slot.end.astimezone(UTC):
            return DayDecision(None, SkipReason.OUTSIDE_HOURS)
        if instant <= slot.start.astimezone(UTC):
            return DayDecision(slot.start, None)
        return DayDecision(instant.astimezone(slot.start.tzinfo), None)

    def next_allowed(self, after: datetime, zone: str | ZoneInfo) -> datetime | None:
        """The first allowed moment at or after ``after`` (``None`` if none within a year)."""
        tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        instant = after.astimezone(UTC)
        first_day = instant.astimezone(tz).date()
        for offset in range(LOOKAHEAD_DAYS + 1):
            slot = self.slot(first_day + timedelta(days=offset), tz)
            if slot is None or instant >= slot.end.astimezone(UTC):
                continue
            return slot.start if instant <= slot.start.astimezone(UTC) else instant.astimezone(tz)
        return None

    def is_allowed(self, moment: datetime, zone: str | ZoneInfo) -> bool:
        tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        local = moment.astimezone(tz)
        slot = self.slot(local.date(), tz)
        return slot is not None and slot.contains(local)


def cap_reason(limits: MaxContacts, contacts_today: int, contacts_7_days: int) -> SkipReason | None:
    """Whether one more contact would cross a cap, given the contacts already made
    (``contacts_7_days`` includes today's)."""
    if contacts_today + 1 > limits.per_day:
        return SkipReason.CAP_PER_DAY
    if contacts_7_days + 1 > limits.per_7_days:
        return SkipReason.CAP_PER_7_DAYS
    return None


def rolling_week(day: date) -> tuple[date, date]:
    """The 7 local days a ``per_7_days`` cap looks at: ``day`` and the 6 before."""
    return day - timedelta(days=6), day


@dataclass(frozen=True)
class DebtFacts:
    """What the pauses look at, for one debt of one debtor on one day."""

    debt_status: str = "open"  # open | in_agreement | paid | disputed (written_off: out of the régua)
    unpaid: bool = True  # principal not yet covered by payments
    active_agreement: bool = False  # the debtor has an agreement in force
    pending_promise: bool = False  # the debtor promised to pay and it is not due/broken
    human_owned: bool = False  # a person owns one of the debtor's conversations
    already_paid_reported_on: date | None = None  # last "already paid" no payment or rejection followed
    claim_pending: bool = False  # a payment claim of the debtor waits for an agent


def pause_reason(facts: DebtFacts, today: date, already_paid_pause_days: int) -> SkipReason | None:
    """Why the régua is paused for this debt today, or ``None``."""
    if facts.debt_status == "paid" or not facts.unpaid:
        return SkipReason.PAID
    if facts.debt_status == "disputed":
        return SkipReason.DISPUTE
    if facts.debt_status == "in_agreement" or facts.active_agreement or facts.pending_promise:
        return SkipReason.AGREEMENT
    if facts.human_owned:
        return SkipReason.HUMAN
    if facts.claim_pending:
        return SkipReason.PAID
    reported = facts.already_paid_reported_on
    if reported is not None and (today - reported).days < already_paid_pause_days:
        return SkipReason.PAID
    return None


@dataclass(frozen=True)
class ContactOption:
    """One of the debtor's contacts, as the channel choice sees it."""

    contact_id: int
    channel: str
    status: str  # active | opted_out | wrong_person | unreachable
    timezone: str | None = None


@dataclass(frozen=True)
class ChannelChoice:
    contact: ContactOption | None
    reason: SkipReason | None
    rank: int = -1  # position of the chosen channel in the step's list


def choose_channel(
    step_channels: Sequence[str],
    contacts: Sequence[ContactOption],
    enabled: Iterable[str],
    *,
    after_rank: int = -1,
) -> ChannelChoice:
    """The first channel of the step (after ``after_rank``, for a fallback) that is on and has
    an active contact; otherwise why not: ``opted_out`` or ``wrong_person`` when one of the
    debtor's contacts says so, else ``no_channel``."""
    on = set(enabled)
    for rank, channel in enumerate(step_channels):
        if rank <= after_rank or channel not in on:
            continue
        for contact in sorted(contacts, key=lambda c: c.contact_id):
            if contact.channel == channel and contact.status == "active":
                return ChannelChoice(contact, None, rank)
    statuses = {c.status for c in contacts}
    if "opted_out" in statuses:
        return ChannelChoice(None, SkipReason.OPTED_OUT)
    if "wrong_person" in statuses:
        return ChannelChoice(None, SkipReason.WRONG_PERSON)
    return ChannelChoice(None, SkipReason.NO_CHANNEL)


@dataclass(frozen=True)
class CadenceStep:
    """One step of a régua as the planner needs it (1-based ``number``)."""

    cadence: str
    number: int
    day: int
    template: str
    channels: tuple[str, ...]
    offer_negotiation: bool = False


@dataclass(frozen=True)
class DueWindow:
    """Due dates for which ``step`` is the current step on a day: ``due_after < due_date <= due_until``
    (``due_after`` ``None`` for the last step of a régua)."""

    step: CadenceStep
    due_after: date | None
    due_until: date


def due_windows(steps: Sequence[CadenceStep], day: date) -> list[DueWindow]:
    """For each step, the due dates whose current step on ``day`` it is.

    The current step of a debt is the latest one whose date (due date + ``step.day``) has
    come; an earlier step not yet made is superseded by it.
    """
    ordered = sorted(steps, key=lambda s: s.day)
    result = []
    for index, step in enumerate(ordered):
        until = day - timedelta(days=step.day)
        after = day - timedelta(days=ordered[index + 1].day) if index + 1 < len(ordered) else None
        result.append(DueWindow(step, after, until))
    return result


def current_step(steps: Sequence[CadenceStep], due_date: date, day: date) -> CadenceStep | None:
    """The latest step whose date has come on ``day`` (``None`` before the first); of steps on
    the same day, the one listed last (as :func:`due_windows` says)."""
    started = [s for s in steps if due_date + timedelta(days=s.day) <= day]
    return max(started, key=lambda s: (s.day, s.number)) if started else None


@dataclass(frozen=True)
class ZoneDay:
    """The calendar's verdict for one zone on one day (fed to the set-wise SQL)."""

    zone: str
    at: datetime | None
    reason: SkipReason | None
    window_end: datetime | None = None


@dataclass
class ZoneDays:
    """Verdicts per zone for a day, computed once per zone (not per debt)."""

    calendar: ContactCalendar
    day: date
    now: datetime
    _cache: dict[str, ZoneDay] = field(default_factory=dict)

    def get(self, zone: str) -> ZoneDay:
        if zone not in self._cache:
            decision = self.calendar.decide_day(self.day, zone, self.now)
            slot = self.calendar.slot(self.day, zone)
            self._cache[zone] = ZoneDay(
                zone, decision.at, decision.reason, slot.end if slot is not None else None
            )
        return self._cache[zone]
