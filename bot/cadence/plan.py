"""The set-wise query that decides a day's régua contacts for one creditor.

One SQL statement (SQLAlchemy Core, the same on PostgreSQL and SQLite) takes every debt of
the creditor whose current step has come and is not yet made, and says for each either
*contact* (with the channel, the contact and the moment) or *skip* (with the reason). No
Python loop runs over the debts: what the contact rules decide per time zone (open day,
holiday, the window in that zone, ``now``) is computed once per zone by
:mod:`bot.contact_rules` and joined in as a small table, as are the steps of the régua
(with the due dates each step is current for) and their channels in order.

Steps of the statement (CTEs), one function each:

1. ``base``: the creditor's debts whose due date is early enough for some step, with their
   segment (the policy's ``segments``, first match wins, as a ``CASE`` built by
   :mod:`bot.services.segment_sql` from the one rule in :mod:`bot.policies.segments`) and
   its cadence;
2. ``cand``: joined to the step that is current for their due date, unless a contact for
   that step was made (``cadence_contacts``); a paid debt only on the step's own day (so the
   reason is recorded once, not every day forever);
3. pauses per debtor (active agreement, pending promise, a person owns a conversation,
   a pending payment claim or an "already paid" report neither confirmed nor rejected) and
   contact flags (opted out, wrong person);
4. the first channel of the step that is on and has an active contact;
5. the zone's verdict (``holiday``, ``closed_day``, ``outside_hours`` or the moment);
6. the caps: contacts already made today / in the rolling 7 days (the régua's and the
   follow-up's reminders, :func:`bot.cadence.caps.recent_contacts`) plus the rank of this
   contact among the debtor's contacts of the day (oldest due date first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    CTE,
    Date,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    case,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from bot.cadence.caps import recent_contacts
from bot.contact_rules import CadenceStep, DueWindow, SkipReason, ZoneDay, due_windows
from bot.policies.models import MaxContacts, Policy
from bot.services.audit_kinds import AuditKind
from bot.services.segment_sql import FactColumns, debtor_history, needs_history
from bot.services.segment_sql import segment_case as first_segment_sql
from bot.storage import models as db
from bot.storage.cadence_models import CadenceContactStatus
from bot.storage.claim_models import ClaimStatus
from bot.storage.payment_models import PromiseStatus
from bot.storage.tables import (
    agreements,
    audit,
    cc,
    claims,
    contacts,
    conversations,
    debtors,
    debts,
    payments,
    promises,
)
from bot.storage.types import UTCDateTime

# Debt statuses the régua looks at (paid, disputed and in agreement to record why not);
# ``written_off`` is out of it for good.
REMINDED_STATUSES = tuple(
    s.value
    for s in (db.DebtStatus.OPEN, db.DebtStatus.IN_AGREEMENT, db.DebtStatus.PAID, db.DebtStatus.DISPUTED)
)
# The pause and contact flags per debtor, in the order of their columns.
FLAGS = ("agreement", "promise", "human", "already_paid", "opted_out", "wrong_person")


def policy_steps(policy: Policy) -> list[CadenceStep]:
    """Every step of every régua of the policy (``number`` is 1-based within its régua)."""
    return [
        CadenceStep(name, index, step.day, step.template, tuple(step.channels), step.offer_negotiation)
        for name, steps in policy.cadence.items()
        for index, step in enumerate(steps, start=1)
    ]


def step_of(policy: Policy, cadence: str, number: int) -> CadenceStep | None:
    """Step ``number`` of the policy's régua ``cadence`` (``None`` when the policy has no such step)."""
    return next((s for s in policy_steps(policy) if s.cadence == cadence and s.number == number), None)


@dataclass(frozen=True)
class PlanRequest:
    creditor_id: str
    policy: Policy
    day: date
    channels_on: frozenset[str]


def _rows(selects: Sequence[Any], name: str) -> Subquery:
    first: Any = selects[0]
    combined: Any = first.union_all(*selects[1:]) if len(selects) > 1 else first
    subquery: Subquery = combined.subquery(name)
    return subquery


class DuePlanner:
    """Builds the decision query; ``dialect`` is ``postgresql`` or ``sqlite``."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect

    def decisions(
        self, request: PlanRequest, zones: Mapping[str, ZoneDay], now: datetime, already_paid_since: datetime
    ) -> Select[Any] | None:
        """The decision rows (``reason`` NULL = contact), or ``None`` when the policy has no régua."""
        policy, day = request.policy, request.day
        steps = policy_steps(policy)
        if not steps or not zones:
            return None
        windows = [
            w for name in policy.cadence for w in due_windows([s for s in steps if s.cadence == name], day)
        ]
        cand = candidates(self.base(request, windows), step_rows(windows))
        best = best_channels(cand, channel_rows(steps, request.channels_on))
        staged = staged_rows(cand, pause_flags(already_paid_since), best, zone_rows(zones))
        recent = recent_contacts(day, creditor_id=request.creditor_id).cte("recent")
        return capped(ranked_rows(staged, recent), policy.contact_rules.max_contacts)

    def base(self, request: PlanRequest, windows: Sequence[DueWindow]) -> CTE:
        """1. The creditor's debts due early enough for some step, with their segment and régua."""
        segments = request.policy.segments
        history = debtor_history(self.dialect, request.day) if needs_history(segments) else None
        facts = FactColumns(
            request.day,
            due_date=debts.c.due_date,
            balance=debts.c.amount - debts.c.paid_amount,
            amount=debts.c.amount,
            broken_promises=history.c.broken if history is not None else None,
            past_days_late=history.c.late if history is not None else None,
        )
        segment_case = first_segment_sql(segments, facts, "name")
        cadence_case = first_segment_sql(segments, facts, "cadence")
        source = debts.join(debtors, debtors.c.id == debts.c.debtor_id)
        if history is not None:
            source = source.outerjoin(history, history.c.debtor_id == debts.c.debtor_id)
        return (
            select(
                debts.c.id.label("debt_id"),
                debts.c.debtor_id,
                debts.c.due_date,
                debts.c.external_id.label("debt_ext"),
                debtors.c.external_id.label("debtor_ext"),
                debtors.c.timezone.label("debtor_zone"),
                debts.c.status,
                or_(debts.c.status == db.DebtStatus.PAID.value, debts.c.amount <= debts.c.paid_amount).label(
                    "is_paid"
                ),
                segment_case.label("segment"),
                cadence_case.label("cadence"),
            )
            .select_from(source)
            .where(
                debts.c.creditor_id == request.creditor_id,
                debts.c.due_date <= max(w.due_until for w in windows),
                # A written-off debt (or a status this module does not know) is never reminded.
                debts.c.status.in_(REMINDED_STATUSES),
            )
            .cte("base")
        )

    def zones(self, creditor_id: str) -> Any:
        """Every time zone of the creditor's debtors and their contacts."""
        owned = contacts.join(debtors, debtors.c.id == contacts.c.debtor_id)
        return (
            select(debtors.c.timezone)
            .where(debtors.c.creditor_id == creditor_id)
            .union(
                select(contacts.c.timezone)
                .select_from(owned)
                .where(debtors.c.creditor_id == creditor_id, contacts.c.timezone.is_not(None))
            )
        )


def step_rows(windows: Sequence[DueWindow]) -> Subquery:
    """The steps as rows, with the due dates each is current for."""
    return _rows(
        [
            select(
                literal(w.step.cadence, String).label("cadence"),
                literal(w.step.number, Integer).label("step"),
                literal(w.step.template, String).label("template"),
                literal(w.due_after, Date).label("due_after"),
                literal(w.due_until, Date).label("due_until"),
            )
            for w in windows
        ],
        "steps",
    )


def candidates(base: CTE, steps: Subquery) -> CTE:
    """2. Each debt with its current step, unless that step's contact was made."""
    made = select(cc.c.id).where(
        cc.c.debt_id == base.c.debt_id,
        cc.c.cadence == steps.c.cadence,
        cc.c.step == steps.c.step,
        cc.c.status != CadenceContactStatus.EXPIRED.value,
    )
    return (
        select(base, steps.c.step, steps.c.template, steps.c.due_until)
        .select_from(
            base.join(
                steps,
                and_(
                    steps.c.cadence == base.c.cadence,
                    base.c.due_date <= steps.c.due_until,
                    or_(steps.c.due_after.is_(None), base.c.due_date > steps.c.due_after),
                ),
            )
        )
        .where(~exists(made), or_(~base.c.is_paid, base.c.due_date == steps.c.due_until))
        .cte("cand")
    )


def flag_rows(already_paid_since: datetime) -> Subquery:
    """One row per debtor and pause or contact flag that holds for it.

    "Already paid" holds while one of the debtor's payment claims is pending, and for the
    policy's days after a report that no payment and no rejected claim followed."""
    paid_debt = debts.alias("reported_debts")
    confirmed = (
        select(payments.c.id)
        .select_from(payments.join(paid_debt, paid_debt.c.id == payments.c.debt_id))
        .where(paid_debt.c.debtor_id == audit.c.debtor_id, payments.c.created_at > audit.c.at)
    )
    rejected = select(claims.c.id).where(
        claims.c.debtor_id == audit.c.debtor_id, claims.c.status == ClaimStatus.REJECTED.value,
        claims.c.resolved_at > audit.c.at)
    return union_all(
        select(agreements.c.debtor_id.label("debtor_id"), literal("agreement").label("flag")).where(
            agreements.c.status == db.AgreementStatus.ACTIVE.value
        ),
        select(promises.c.debtor_id, literal("promise")).where(
            promises.c.status == PromiseStatus.PENDING.value
        ),
        select(contacts.c.debtor_id, literal("human"))
        .select_from(conversations.join(contacts, contacts.c.id == conversations.c.contact_id))
        .where(conversations.c.state == db.ConversationState.HUMAN.value),
        select(audit.c.debtor_id, literal("already_paid")).where(
            audit.c.kind == AuditKind.ALREADY_PAID_REPORTED.value,
            audit.c.at >= already_paid_since,
            audit.c.debtor_id.is_not(None),
            ~exists(confirmed),
            ~exists(rejected),
        ),
        select(claims.c.debtor_id, literal("already_paid")).where(
            claims.c.status == ClaimStatus.PENDING.value
        ),
        select(contacts.c.debtor_id, literal("opted_out")).where(
            contacts.c.status == db.ContactStatus.OPTED_OUT.value
        ),
        select(contacts.c.debtor_id, literal("wrong_person")).where(
            contacts.c.status == db.ContactStatus.WRONG_PERSON.value
        ),
    ).subquery("flag_rows")


def pause_flags(already_paid_since: datetime) -> CTE:
    """3. Pauses per debtor, as flags (one hash join instead of sub-queries per debt)."""
    rows = flag_rows(already_paid_since)

    def flag(name: str) -> ColumnElement[int]:
        return func.max(case((rows.c.flag == name, 1), else_=0)).label(name)

    return select(rows.c.debtor_id, *(flag(name) for name in FLAGS)).group_by(rows.c.debtor_id).cte("flags")


def channel_rows(steps: Sequence[CadenceStep], channels_on: frozenset[str]) -> Subquery:
    """Each step's channels that are on, ranked in the step's order (one dummy row if none is)."""
    return _rows(
        [
            select(
                literal(s.cadence, String).label("cadence"),
                literal(s.number, Integer).label("step"),
                literal(channel, String).label("channel"),
                literal(rank, Integer).label("rank"),
            )
            for s in steps
            for rank, channel in enumerate(s.channels)
            if channel in channels_on
        ]
        or [
            select(
                literal("", String).label("cadence"),
                literal(0, Integer).label("step"),
                literal("", String).label("channel"),
                literal(0, Integer).label("rank"),
            )
        ],
        "step_channels",
    )


def best_channels(cand: CTE, channels: Subquery) -> CTE:
    """4. Per candidate, the first channel of its step with an active contact of the debtor."""
    active = (
        select(contacts.c.debtor_id, contacts.c.channel, func.min(contacts.c.id).label("contact_id"))
        .where(contacts.c.status == db.ContactStatus.ACTIVE.value)
        .group_by(contacts.c.debtor_id, contacts.c.channel)
        .subquery("active_contacts")
    )
    options = (
        select(
            cand.c.debt_id,
            active.c.contact_id,
            active.c.channel,
            func.row_number().over(partition_by=cand.c.debt_id, order_by=channels.c.rank).label("pick"),
        )
        .select_from(
            cand.join(
                channels,
                and_(channels.c.cadence == cand.c.cadence, channels.c.step == cand.c.step),
            ).join(
                active,
                and_(active.c.debtor_id == cand.c.debtor_id, active.c.channel == channels.c.channel),
            )
        )
        .subquery("options")
    )
    return select(options).where(options.c.pick == 1).cte("best")


def zone_rows(zones: Mapping[str, ZoneDay]) -> Subquery:
    """5. The contact rules' verdict per time zone: the moment, or why not today."""
    return _rows(
        [
            select(
                literal(z.zone, String).label("zone"),
                literal(z.at, UTCDateTime()).label("at"),
                literal(z.reason.value if z.reason else None, String).label("reason"),
                literal(z.window_end, UTCDateTime()).label("window_end"),
            )
            for z in zones.values()
        ],
        "zones",
    )


def pause_reason(cand: CTE, flags: CTE, best: CTE, zones: Subquery) -> ColumnElement[Any]:
    """Why not, before the caps: the debt, the debtor's pauses, no channel, the zone's day."""
    return case(
        (cand.c.is_paid, SkipReason.PAID.value),
        (cand.c.status == db.DebtStatus.DISPUTED.value, SkipReason.DISPUTE.value),
        (
            or_(
                cand.c.status == db.DebtStatus.IN_AGREEMENT.value,
                flags.c.agreement == 1,
                flags.c.promise == 1,
            ),
            SkipReason.AGREEMENT.value,
        ),
        (flags.c.human == 1, SkipReason.HUMAN.value),
        (flags.c.already_paid == 1, SkipReason.PAID.value),
        (
            best.c.contact_id.is_(None),
            case(
                (flags.c.opted_out == 1, SkipReason.OPTED_OUT.value),
                (flags.c.wrong_person == 1, SkipReason.WRONG_PERSON.value),
                else_=SkipReason.NO_CHANNEL.value,
            ),
        ),
        (zones.c.reason.is_not(None), zones.c.reason),
        (zones.c.zone.is_(None), SkipReason.OUTSIDE_HOURS.value),
        else_=null(),
    )


def pause_detail(cand: CTE, flags: CTE) -> ColumnElement[Any]:
    """Which pause an ``agreement`` or ``paid`` reason came from, when it was not the debt's own."""
    return case(
        (
            or_(
                cand.c.is_paid,
                cand.c.status == db.DebtStatus.DISPUTED.value,
                cand.c.status == db.DebtStatus.IN_AGREEMENT.value,
                flags.c.agreement == 1,
            ),
            null(),
        ),
        (flags.c.promise == 1, "promise"),
        (flags.c.human == 1, null()),
        (flags.c.already_paid == 1, "already_paid"),
        else_=null(),
    )


def staged_rows(cand: CTE, flags: CTE, best: CTE, zones: Subquery) -> CTE:
    """Each candidate with its channel, contact, zone, moment and reason before the caps."""
    chosen = contacts.alias("chosen")
    zone = func.coalesce(chosen.c.timezone, cand.c.debtor_zone)
    return (
        select(
            cand.c.debt_id,
            cand.c.debtor_id,
            cand.c.debtor_ext,
            cand.c.debt_ext,
            cand.c.due_date,
            cand.c.segment,
            cand.c.cadence,
            cand.c.step,
            cand.c.template,
            best.c.contact_id,
            best.c.channel,
            zone.label("zone"),
            zones.c.at,
            zones.c.window_end,
            pause_reason(cand, flags, best, zones).label("pre_reason"),
            pause_detail(cand, flags).label("detail"),
        )
        .select_from(
            cand.outerjoin(flags, flags.c.debtor_id == cand.c.debtor_id)
            .outerjoin(best, best.c.debt_id == cand.c.debt_id)
            .outerjoin(chosen, chosen.c.id == best.c.contact_id)
            .outerjoin(zones, zones.c.zone == zone)
        )
        .cte("staged")
    )


def ranked_rows(staged: CTE, recent: CTE) -> CTE:
    """6. The contacts already made per debtor and each candidate's rank among its debtor's."""
    nth = func.row_number().over(
        partition_by=(staged.c.debtor_id, case((staged.c.pre_reason.is_(None), 0), else_=1)),
        order_by=(staged.c.due_date, staged.c.debt_id),
    )
    return (
        select(
            staged,
            nth.label("nth"),
            func.coalesce(recent.c.today, 0).label("made_today"),
            func.coalesce(recent.c.week, 0).label("made_week"),
        )
        .select_from(staged.outerjoin(recent, recent.c.debtor_id == staged.c.debtor_id))
        .cte("ranked")
    )


def capped(ranked: CTE, limits: MaxContacts) -> Select[Any]:
    """The decision rows: the reason before the caps, else a cap the contact would exceed."""
    reason = case(
        (ranked.c.pre_reason.is_not(None), ranked.c.pre_reason),
        (ranked.c.made_today + ranked.c.nth > limits.per_day, SkipReason.CAP_PER_DAY.value),
        (ranked.c.made_week + ranked.c.nth > limits.per_7_days, SkipReason.CAP_PER_7_DAYS.value),
        else_=null(),
    )
    return select(
        ranked.c.debt_id,
        ranked.c.debtor_id,
        ranked.c.debtor_ext,
        ranked.c.debt_ext,
        ranked.c.due_date,
        ranked.c.segment,
        ranked.c.cadence,
        ranked.c.step,
        ranked.c.template,
        ranked.c.contact_id,
        ranked.c.channel,
        ranked.c.zone,
        ranked.c.at,
        ranked.c.window_end,
        reason.label("reason"),
        ranked.c.detail,
    ).where(true())


def already_paid_since(day: date, pause_days: int, zone: str) -> datetime:
    """Reports of "already paid" on or after this moment still pause the régua on ``day``."""
    start = datetime.combine(day - timedelta(days=max(pause_days - 1, 0)), time(0), tzinfo=ZoneInfo(zone))
    if pause_days == 0:
        start = datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return start.astimezone(UTC)

