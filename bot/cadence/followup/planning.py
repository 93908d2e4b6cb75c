"""The follow-up's facts of a day (agreements, promises, what was done or held back), the
pure core's decisions on them and the day's report."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.cadence.calendar import contact_calendar as regua_calendar
from bot.negotiation import followup as core
from bot.negotiation.balance import days_past_due
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.services.payments import paid_since
from bot.storage import models as db
from bot.storage.cadence_models import ContactDecision
from bot.storage.payment_models import Promise, PromiseStatus
from bot.storage.payment_repositories import FollowUpLog

FOLLOWUP_SEGMENT = "followup"  # ``contact_decisions.segment`` of the follow-up's decisions
NOTICE_DAYS = 31  # a broken agreement's notice held back is tried this many days, then dropped


def contact_calendar(policy: Policy, around: date) -> core.ContactCalendar:
    """The follow-up's view of the régua's calendar (:func:`bot.cadence.calendar.contact_calendar`):
    the open weekdays, and as closed days the closed dates and national holidays."""
    calendar = regua_calendar(policy, around)
    return core.ContactCalendar(frozenset(calendar.windows),
                                frozenset(calendar.closed_dates | calendar.holidays))


@dataclass
class FollowUpReport:
    """What a day's follow-up decided, sent and held back (``acordo followup run`` prints it)."""

    day: date
    dry_run: bool
    decisions: list[dict[str, Any]] = field(default_factory=list)
    messages: int = 0
    held: list[dict[str, Any]] = field(default_factory=list)  # contacts held back, with the reason


@dataclass(frozen=True)
class DayFacts:
    """What the day's follow-up looks at, loaded in a few queries."""

    agreements: list[db.Agreement]  # active, with their installments and debts
    broken: list[db.Agreement]  # broken, whose notice was held back recently
    promises: list[Promise]  # pending
    debtors: dict[int, db.Debtor]
    held: set[tuple[str, int]]  # (template, installment/promise/agreement id) held back recently
    done: set[str]  # the ``followup_events`` keys already claimed


async def plan_day(session: AsyncSession, day: date, creditor: str | None, policies: PolicyBook
                   ) -> tuple[list[core.Decision], dict[int, str], dict[int, str]]:
    """The day's decisions (of one creditor, or of all), with each debtor's external id and
    creditor by debtor id."""
    facts = await load_day_facts(session, day, creditor)
    decisions = [*_agreement_decisions(facts, day, policies), *_notice_decisions(facts, day, policies),
                 *await _promise_decisions(session, facts, day, policies)]
    return (decisions, {i: d.external_id for i, d in facts.debtors.items()},
            {i: d.creditor_id for i, d in facts.debtors.items()})


async def load_day_facts(session: AsyncSession, day: date, creditor: str | None) -> DayFacts:
    agreement_query = (
        select(db.Agreement)
        .options(selectinload(db.Agreement.installments), selectinload(db.Agreement.debts))
        .where(db.Agreement.status == db.AgreementStatus.ACTIVE.value).order_by(db.Agreement.id))
    promise_query = (select(Promise).where(Promise.status == PromiseStatus.PENDING.value)
                     .order_by(Promise.id))
    if creditor is not None:
        agreement_query = agreement_query.join(db.Debtor, db.Debtor.id == db.Agreement.debtor_id).where(
            db.Debtor.creditor_id == creditor)
        promise_query = promise_query.join(db.Debtor, db.Debtor.id == Promise.debtor_id).where(
            db.Debtor.creditor_id == creditor)
    agreements = list(await session.scalars(agreement_query))
    promises = list(await session.scalars(promise_query))
    held = await _held(session, day, creditor)
    broken = list(await session.scalars(
        select(db.Agreement).options(selectinload(db.Agreement.installments))
        .where(db.Agreement.id.in_({ref for template, ref in held if template == "agreement_broken"}),
               db.Agreement.status == db.AgreementStatus.BROKEN.value)
        .order_by(db.Agreement.id)))
    debtor_ids = ({a.debtor_id for a in agreements} | {p.debtor_id for p in promises}
                  | {a.debtor_id for a in broken})
    debtor_rows = list(await session.scalars(select(db.Debtor).where(db.Debtor.id.in_(debtor_ids))))
    keys = ([f"installment:{i.id}:{kind}" for a in agreements for i in a.installments
             for kind in ("remind", "followup")] + [f"promise:{p.id}:remind" for p in promises]
            + [f"agreement:{a.id}:broken" for a in broken])
    done = await FollowUpLog(session).done_keys(keys)
    return DayFacts(agreements, broken, promises, {d.id: d for d in debtor_rows}, held, done)


def _agreement_decisions(facts: DayFacts, day: date, policies: PolicyBook) -> list[core.Decision]:
    decisions: list[core.Decision] = []
    done, held = facts.done, facts.held
    for agreement in facts.agreements:
        policy = policies.get(facts.debtors[agreement.debtor_id].creditor_id)
        if policy is None:
            continue
        agreement_facts = core.AgreementFacts(
            id=agreement.id, debtor_id=agreement.debtor_id,
            grace_days=_profile(policy, agreement).agreement_grace_days,
            installments=tuple(core.InstallmentFacts(
                id=i.id, number=i.number, due_date=i.due_date, amount=i.amount,
                paid_amount=i.paid_amount, reminded=f"installment:{i.id}:remind" in done,
                followed_up=f"installment:{i.id}:followup" in done,
                reminder_held=("installment_reminder", i.id) in held) for i in agreement.installments))
        decisions += core.plan_agreement(agreement_facts, day, contact_calendar(policy, day))
    return decisions


def _notice_decisions(facts: DayFacts, day: date, policies: PolicyBook) -> list[core.Decision]:
    """The notices of broken agreements held back before (tried again)."""
    decisions: list[core.Decision] = []
    renegotiated = {a.debtor_id for a in facts.agreements}
    for agreement in facts.broken:
        policy = policies.get(facts.debtors[agreement.debtor_id].creditor_id)
        if (policy is None or f"agreement:{agreement.id}:broken" in facts.done
                or agreement.debtor_id in renegotiated):
            continue  # told already, or a new agreement made the notice moot
        agreement_facts = core.AgreementFacts(
            id=agreement.id, debtor_id=agreement.debtor_id, grace_days=0, status="broken",
            notice_pending=True, installments=tuple(core.InstallmentFacts(
                id=i.id, number=i.number, due_date=i.due_date, amount=i.amount,
                paid_amount=i.paid_amount) for i in agreement.installments))
        decisions += core.plan_agreement(agreement_facts, day, contact_calendar(policy, day))
    return decisions


async def _promise_decisions(session: AsyncSession, facts: DayFacts, day: date, policies: PolicyBook
                             ) -> list[core.Decision]:
    decisions: list[core.Decision] = []
    for promise in facts.promises:
        policy = policies.get(facts.debtors[promise.debtor_id].creditor_id)
        if policy is None:
            continue
        grace = policy.profile_for(0, promise.balance).promise_grace_days
        paid = await paid_since(session, promise.debtor_id, promise.created_at)
        facts_p = core.PromiseFacts(
            id=promise.id, debtor_id=promise.debtor_id, promised_date=promise.promised_date,
            target=promise.target, paid_since=paid, grace_days=grace,
            reminded=f"promise:{promise.id}:remind" in facts.done,
            reminder_held=("promise_reminder", promise.id) in facts.held)
        decisions += core.plan_promise(facts_p, day, contact_calendar(policy, day))
    return decisions


async def _held(session: AsyncSession, day: date, creditor: str | None) -> set[tuple[str, int]]:
    """Follow-up contacts held back recently, as (template, installment/promise/agreement id)."""
    query = select(ContactDecision.cadence, ContactDecision.step).where(
        ContactDecision.segment == FOLLOWUP_SEGMENT,
        ContactDecision.last_day >= day - timedelta(days=max(core.LOOKAHEAD_DAYS, NOTICE_DAYS)),
        ContactDecision.last_day <= day)
    if creditor is not None:
        query = query.where(ContactDecision.creditor_id == creditor)
    rows = {(template, ref) for template, ref in await session.execute(query)}
    notices = {(t, ref) for t, ref in rows if t == "agreement_broken"}
    if notices:  # only within NOTICE_DAYS of the first time it was held back
        recent = await session.execute(
            select(ContactDecision.step).where(
                ContactDecision.segment == FOLLOWUP_SEGMENT,
                ContactDecision.cadence == "agreement_broken",
                ContactDecision.step.in_([ref for _, ref in notices]),
                ContactDecision.first_day >= day - timedelta(days=NOTICE_DAYS)))
        rows = (rows - notices) | {("agreement_broken", ref) for ref in recent.scalars()}
    return rows


def _profile(policy: Policy, agreement: db.Agreement) -> Any:
    agreed_on = agreement.created_at.date()
    worst = max((days_past_due(d.due_date, agreed_on) for d in agreement.debts), default=0)
    return policy.profile_for(worst, agreement.total)
