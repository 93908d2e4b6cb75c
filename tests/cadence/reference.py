"""A reference régua planner: slow, obvious, one debt at a time.

The oracle of the differential tests (tests/cadence/test_differential.py): for any valid
policy and portfolio, the set-wise SQL planner (:mod:`bot.cadence.plan`, as
``CadenceService.preview``) must say exactly what this says. It lives under tests/ because
nothing in the app needs it: it only restates the rules in the plainest form, built from
the pure pieces (:mod:`bot.contact_rules`, :mod:`bot.policies.segments`, the policy models)
over plain dataclasses, with no database and no SQL.

The rules, in the order they apply to each debt of the creditor (written-off debts are out):

1. its **segment** is the first whose ``when`` holds for the debt's facts (days past due,
   unpaid principal, face amount; its debtor's broken promises in the last 365 days and most
   days late paying a paid invoice); the segment names the régua (cadence);
2. its **current step** is the latest step of that régua whose date (due date + ``day``) has
   come; none yet: nothing to say. A step already made (any record but an expired one) is
   not said again. A paid debt is only reported on its step's own day;
3. the **pauses** (:func:`bot.contact_rules.pause_reason`): paid, dispute, agreement (the
   debt's or an active agreement or pending promise of the debtor), a person owns one of the
   debtor's conversations, a pending payment claim, an "already paid" followed by neither a
   payment nor a rejected claim;
4. the **channel** (:func:`bot.contact_rules.choose_channel`): the step's first channel that
   is on and has an active contact, or why not (opted out, wrong person, no channel);
5. the **day and hours** in the chosen contact's zone (else the debtor's):
   :meth:`ContactCalendar.decide_day` gives the moment or the reason;
6. the **caps** (:func:`bot.contact_rules.cap_reason`): the debtor's contacts still to make
   that day are taken oldest due date first, each counting the contacts already made (the
   régua's first attempts and the follow-up's reminders) and the ones before it.

Contacts already made that day are listed as planned, as they were recorded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.contact_rules import (
    CadenceStep,
    ContactCalendar,
    ContactOption,
    DebtFacts,
    cap_reason,
    choose_channel,
    current_step,
    pause_reason,
    rolling_week,
)
from bot.policies.models import Policy
from bot.policies.segments import SegmentFacts, first_segment

MADE = ("planned", "queued", "sent", "fell_back", "failed")
FOLLOWUP_CONTACTS = ("remind", "followup", "notice")
REMINDED = ("open", "in_agreement", "paid", "disputed")


@dataclass(frozen=True)
class Debtor:
    id: int
    external_id: str
    timezone: str


@dataclass(frozen=True)
class Debt:
    id: int
    debtor_id: int
    external_id: str
    amount: Decimal
    paid_amount: Decimal
    due_date: date
    status: str  # open | in_agreement | paid | disputed | written_off


@dataclass(frozen=True)
class Contact:
    id: int
    debtor_id: int
    channel: str
    status: str  # active | opted_out | wrong_person | unreachable
    timezone: str | None = None


@dataclass(frozen=True)
class Conversation:
    contact_id: int
    state: str  # bot | human | opted_out


@dataclass(frozen=True)
class Agreement:
    debtor_id: int
    status: str  # active | kept | broken | cancelled


@dataclass(frozen=True)
class Promise:
    debtor_id: int
    status: str  # pending | kept | broken | cancelled
    promised_date: date


@dataclass(frozen=True)
class Payment:
    debt_id: int
    paid_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class AlreadyPaidReport:
    debtor_id: int
    at: datetime


@dataclass(frozen=True)
class PaymentClaim:
    debtor_id: int
    status: str  # pending | confirmed | rejected
    created_at: datetime
    resolved_at: datetime | None = None


@dataclass(frozen=True)
class PastContact:
    """A régua contact recorded by an earlier run (``cadence_contacts``)."""

    debt_id: int
    debtor_id: int
    contact_id: int
    segment: str
    cadence: str
    step: int
    template: str
    channel: str
    day: date
    timezone: str
    at: datetime
    status: str  # planned | queued | sent | fell_back | failed | cancelled | expired
    attempt: int = 0


@dataclass(frozen=True)
class FollowUp:
    debtor_id: int
    day: date
    kind: str  # remind | followup | notice | (others do not count)


@dataclass
class Portfolio:
    debtors: list[Debtor] = field(default_factory=list)
    debts: list[Debt] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    conversations: list[Conversation] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    reports: list[AlreadyPaidReport] = field(default_factory=list)
    claims: list[PaymentClaim] = field(default_factory=list)
    past: list[PastContact] = field(default_factory=list)
    followups: list[FollowUp] = field(default_factory=list)


@dataclass(frozen=True)
class Planned:
    debtor: str
    debt: str
    step: int
    template: str
    channel: str
    at: str  # ISO 8601 in the contact's zone
    segment: str
    cadence: str


@dataclass(frozen=True)
class Skipped:
    debtor: str
    debt: str
    step: int
    reason: str
    template: str
    segment: str
    cadence: str


def steps_of(policy: Policy, cadence: str) -> list[CadenceStep]:
    return [
        CadenceStep(cadence, number, step.day, step.template, tuple(step.channels))
        for number, step in enumerate(policy.cadence.get(cadence, ()), start=1)
    ]


def broken_promises(portfolio: Portfolio, debtor_id: int, day: date) -> int:
    since = day - timedelta(days=365)
    return sum(
        1 for p in portfolio.promises
        if p.debtor_id == debtor_id and p.status == "broken" and p.promised_date >= since
    )


def past_days_late(portfolio: Portfolio, debtor_id: int) -> int:
    """The most days a paid invoice's last payment (its UTC date) came after its due date;
    an invoice paid on time or early counts 0, as does a debtor with none paid."""
    worst = 0
    for debt in portfolio.debts:
        if debt.debtor_id != debtor_id or debt.status != "paid":
            continue
        paid = [p.paid_at for p in portfolio.payments if p.debt_id == debt.id]
        if paid:
            worst = max(worst, (max(paid).astimezone(UTC).date() - debt.due_date).days)
    return worst


def unconfirmed_report_day(portfolio: Portfolio, debtor_id: int, zone: str) -> date | None:
    """The local day (creditor's zone) of the last "already paid" that no payment and no
    rejected claim followed."""
    debt_ids = {d.id for d in portfolio.debts if d.debtor_id == debtor_id}
    days = [
        r.at.astimezone(ZoneInfo(zone)).date()
        for r in portfolio.reports
        if r.debtor_id == debtor_id
        and not any(p.debt_id in debt_ids and p.created_at > r.at for p in portfolio.payments)
        and not any(c.debtor_id == debtor_id and c.status == "rejected" and c.resolved_at is not None
                    and c.resolved_at > r.at for c in portfolio.claims)
    ]
    return max(days) if days else None


def plan(
    policy: Policy,
    portfolio: Portfolio,
    day: date,
    now: datetime,
    channels_on: frozenset[str],
    calendar: ContactCalendar,
) -> tuple[list[Planned], list[Skipped]]:
    """What the régua says on ``day`` (``now``: the moment deciding it), as sorted lists."""
    debtors = {d.id: d for d in portfolio.debtors}
    planned: list[Planned] = []
    skipped: list[Skipped] = []

    for made in portfolio.past:
        if made.day == day and made.attempt == 0 and made.status in MADE:
            debt = next(d for d in portfolio.debts if d.id == made.debt_id)
            planned.append(Planned(
                debtors[made.debtor_id].external_id, debt.external_id, made.step, made.template,
                made.channel, made.at.astimezone(ZoneInfo(made.timezone)).isoformat(),
                made.segment, made.cadence,
            ))

    # Steps 1 to 5 for each debt; the ones that may go wait for the caps.
    waiting: dict[int, list[tuple[Debt, Planned]]] = defaultdict(list)
    for debt in portfolio.debts:
        if debt.status not in REMINDED:
            continue
        debtor = debtors[debt.debtor_id]
        facts = SegmentFacts(
            days_past_due=(day - debt.due_date).days,
            balance=debt.amount - debt.paid_amount,
            amount=debt.amount,
            broken_promises=broken_promises(portfolio, debtor.id, day),
            past_days_late=past_days_late(portfolio, debtor.id),
        )
        segment = first_segment(policy.segments, facts)
        step = current_step(steps_of(policy, segment.cadence), debt.due_date, day)
        if step is None:
            continue
        if any(
            m.debt_id == debt.id and m.cadence == step.cadence and m.step == step.number
            and m.status != "expired"
            for m in portfolio.past
        ):
            continue
        paid = debt.status == "paid" or debt.amount <= debt.paid_amount
        if paid and debt.due_date + timedelta(days=step.day) != day:
            continue

        def skip(reason: str, debt: Debt = debt, step: CadenceStep = step, cadence: str = segment.cadence,
                 name: str = segment.name, debtor: Debtor = debtor) -> None:
            skipped.append(Skipped(debtor.external_id, debt.external_id, step.number, reason,
                                   step.template, name, cadence))

        mine = [c for c in portfolio.contacts if c.debtor_id == debtor.id]
        facts_of_debt = DebtFacts(
            debt_status=debt.status,
            unpaid=debt.amount > debt.paid_amount,
            active_agreement=any(
                a.debtor_id == debtor.id and a.status == "active" for a in portfolio.agreements
            ),
            pending_promise=any(
                p.debtor_id == debtor.id and p.status == "pending" for p in portfolio.promises
            ),
            human_owned=any(
                v.state == "human" and v.contact_id in {c.id for c in mine} for v in portfolio.conversations
            ),
            already_paid_reported_on=unconfirmed_report_day(portfolio, debtor.id, policy.creditor.timezone),
            claim_pending=any(c.debtor_id == debtor.id and c.status == "pending" for c in portfolio.claims),
        )
        paused = pause_reason(facts_of_debt, day, policy.contact_rules.already_paid_pause_days)
        if paused is not None:
            skip(paused.value)
            continue
        options = [ContactOption(c.id, c.channel, c.status, c.timezone) for c in mine]
        choice = choose_channel(step.channels, options, channels_on)
        if choice.contact is None:
            skip(choice.reason.value if choice.reason else "no_channel")
            continue
        zone = choice.contact.timezone or debtor.timezone
        verdict = calendar.decide_day(day, zone, now)
        if verdict.at is None:
            skip(verdict.reason.value if verdict.reason else "outside_hours")
            continue
        waiting[debtor.id].append((debt, Planned(
            debtor.external_id, debt.external_id, step.number, step.template, choice.contact.channel,
            verdict.at.astimezone(ZoneInfo(zone)).isoformat(), segment.name, segment.cadence,
        )))

    # Step 6: the caps, per debtor, oldest due date first.
    first, last = rolling_week(day)
    for debtor_id, rows in waiting.items():
        made_week = sum(
            1 for m in portfolio.past
            if m.debtor_id == debtor_id and m.attempt == 0 and m.status in MADE and first <= m.day <= last
        ) + sum(
            1 for f in portfolio.followups
            if f.debtor_id == debtor_id and f.kind in FOLLOWUP_CONTACTS and first <= f.day <= last
        )
        made_today = sum(
            1 for m in portfolio.past
            if m.debtor_id == debtor_id and m.attempt == 0 and m.status in MADE and m.day == day
        ) + sum(1 for f in portfolio.followups
                if f.debtor_id == debtor_id and f.kind in FOLLOWUP_CONTACTS and f.day == day)
        for before, (_debt, row) in enumerate(sorted(rows, key=lambda r: (r[0].due_date, r[0].id))):
            capped = cap_reason(policy.contact_rules.max_contacts, made_today + before, made_week + before)
            if capped is None:
                planned.append(row)
            else:
                skipped.append(Skipped(row.debtor, row.debt, row.step, capped.value, row.template,
                                       row.segment, row.cadence))
    return sorted(planned, key=_key), sorted(skipped, key=_key)


def _key(row: Planned | Skipped) -> tuple[str, ...]:
    return tuple(str(v) for v in vars(row).values())


def deciding_moment(clock_now: datetime, day: date, creditor_zone: str) -> datetime:
    """``now`` for deciding ``day``: the clock on the creditor's today, else the day's start."""
    zone = ZoneInfo(creditor_zone)
    if clock_now.astimezone(zone).date() == day:
        return clock_now
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
