"""Carries out the day's follow-up of promises and installment plans.

Run by the worker's régua loop at the first tick of each creditor's local day
(:meth:`bot.services.cadence.CadenceService.tick`) and by hand with ``acordo followup run``.
Loads the facts (active agreements with their installments, pending promises, what was paid,
which follow-ups were done and which were held back), asks the pure
:func:`bot.negotiation.followup.plan` what to do on the day, and applies each decision in its
own transaction, under the creditor's lock (the régua's scheduler takes the same one, so the
per-debtor caps stay exact across both, and across workers):

- reminders, follow-ups and the notice of a broken agreement are bot-initiated contacts and
  obey the contact rules like the régua's: the contact's hours and holidays, the per-debtor
  caps per day and per rolling 7 days (the régua's contacts and these count together), no
  contact that opted out, is the wrong person or unreachable, none while a person owns one of
  the debtor's conversations. One held back is recorded as a decision not to contact
  (``contact_decisions``, segment ``followup``, with the reason) and goes on the next
  contact day (a reminder: up to the due date; the notice: within ``NOTICE_DAYS``).
- a contact made becomes messages stored ``queued`` in the debtor's conversation and, on
  Telegram/WhatsApp/SMS, outbox rows with ``not_before`` the allowed moment; its key in
  ``followup_events`` is claimed in the same transaction, so no re-run and no second worker
  sends it twice;
- a broken agreement: unpaid installments are ``late``, its debts return to ``open`` (the
  régua takes them again) and the conversation's negotiation starts afresh, whatever the caps
  say; a kept agreement closes its debts; a broken promise is recorded (the régua resumes),
  a kept one is closed.

``--dry-run`` only reports.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from sqlalchemy import select
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.clock import Clock
from bot.contact_rules import SkipReason, cap_reason
from bot.conversation.outcome import Reply
from bot.negotiation import followup as core
from bot.negotiation.balance import days_past_due
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.rendering.renderer import TemplateRenderer
from bot.services.audit_kinds import AuditKind
from bot.services.cadence import contact_calendar as rules_calendar
from bot.services.cadence import lock_creditor
from bot.services.cadence_plan import recent_contacts, table_of
from bot.services.negotiation import MENU_BUTTONS
from bot.services.outgoing import OutgoingMessages
from bot.services.payment_pictures import instruction_picture
from bot.services.payments import PaymentDesk, paid_since
from bot.storage import models as db
from bot.storage.cadence_models import ContactDecision
from bot.storage.channel_models import Initiator
from bot.storage.payment_models import ChargeStatus, FollowUpEvent, PaymentCharge, Promise, PromiseStatus
from bot.storage.payment_repositories import FollowUpLog
from bot.storage.repositories import AuditLog, ConversationRepository

logger = logging.getLogger(__name__)

FOLLOWUP_SEGMENT = "followup"  # ``contact_decisions.segment`` of the follow-up's decisions
NOTICE_DAYS = 31  # a broken agreement's notice held back is tried this many days, then dropped


def contact_calendar(policy: Policy, around: date) -> core.ContactCalendar:
    """The policy's contact days: open weekdays, national holidays (``holidays: BR``), closed dates."""
    closed = {date.fromisoformat(d) for d in policy.contact_rules.closed_dates}
    if policy.contact_rules.holidays == "BR":
        closed |= set(holiday_calendars.country_holidays(
            "BR", years=range(around.year - 1, around.year + 2)).keys())
    return core.ContactCalendar(frozenset(policy.contact_rules.windows()), frozenset(closed))


@dataclass
class FollowUpReport:
    day: date
    dry_run: bool
    decisions: list[dict[str, Any]] = field(default_factory=list)
    messages: int = 0
    held: list[dict[str, Any]] = field(default_factory=list)  # contacts held back, with the reason


@dataclass(frozen=True)
class Outreach:
    """One follow-up contact: its key, what it is, and where a decision not to make it is filed."""

    key: str  # ``followup_events.key``, e.g. ``installment:12:remind``
    kind: str  # remind | followup | notice (cadence_plan.FOLLOWUP_CONTACT_KINDS)
    template: str  # the first message's template; the decision's ``cadence``
    ref_id: int  # the installment, promise or agreement; the decision's ``step``
    debt_id: int | None  # the debt the decision is filed under


@dataclass(frozen=True)
class Reach:
    contact: db.Contact
    at: datetime  # inside the contact's window


def _decision_row(decision: core.Decision, debtors: dict[int, str]) -> dict[str, Any]:
    values = {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in vars(decision).items()}
    return {"action": type(decision).__name__, "debtor": debtors.get(decision.debtor_id, ""), **values}


class FollowUpService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policies: PolicyBook,
                 renderer: TemplateRenderer, clock: Clock, payments: PaymentDesk,
                 picture_channels: Collection[str] = ()) -> None:
        self._sessions = sessions
        self._policies = policies
        self._renderer = renderer
        self._clock = clock
        self._payments = payments
        self._outgoing = OutgoingMessages(renderer, picture_channels)  # pictures: the PIX QR

    async def run(self, day: date, *, creditor: str | None = None, dry_run: bool = False) -> FollowUpReport:
        """Plan and apply ``day``'s follow-up (of one creditor, or of all)."""
        if creditor is not None and creditor not in self._policies:
            raise ValueError(f"unknown creditor {creditor!r}: no policies/{creditor}.yaml is loaded")
        report = FollowUpReport(day, dry_run)
        async with self._sessions() as session:
            decisions, names, creditors = await self._plan(session, day, creditor)
        report.decisions = [_decision_row(d, names) for d in decisions]
        if dry_run:
            return report
        for decision in decisions:
            async with self._sessions() as session:
                await lock_creditor(session, creditors[decision.debtor_id])
                report.messages += await self._apply(session, decision, day, report)
                await session.commit()
        return report

    # -- facts ----------------------------------------------------------------------------

    async def _plan(self, session: AsyncSession, day: date, creditor: str | None
                    ) -> tuple[list[core.Decision], dict[int, str], dict[int, str]]:
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
        held = await self._held(session, day, creditor)
        broken = list(await session.scalars(
            select(db.Agreement).options(selectinload(db.Agreement.installments))
            .where(db.Agreement.id.in_({ref for template, ref in held if template == "agreement_broken"}),
                   db.Agreement.status == db.AgreementStatus.BROKEN.value)
            .order_by(db.Agreement.id)))
        debtor_ids = ({a.debtor_id for a in agreements} | {p.debtor_id for p in promises}
                      | {a.debtor_id for a in broken})
        debtor_rows = list(await session.scalars(select(db.Debtor).where(db.Debtor.id.in_(debtor_ids))))
        debtors = {d.id: d for d in debtor_rows}
        keys = ([f"installment:{i.id}:{kind}" for a in agreements for i in a.installments
                 for kind in ("remind", "followup")] + [f"promise:{p.id}:remind" for p in promises]
                + [f"agreement:{a.id}:broken" for a in broken])
        done = await FollowUpLog(session).done_keys(keys)
        decisions: list[core.Decision] = []
        for agreement in agreements:
            policy = self._policies.get(debtors[agreement.debtor_id].creditor_id)
            if policy is None:
                continue
            facts = core.AgreementFacts(
                id=agreement.id, debtor_id=agreement.debtor_id,
                grace_days=self._profile(policy, agreement).agreement_grace_days,
                installments=tuple(core.InstallmentFacts(
                    id=i.id, number=i.number, due_date=i.due_date, amount=i.amount,
                    paid_amount=i.paid_amount, reminded=f"installment:{i.id}:remind" in done,
                    followed_up=f"installment:{i.id}:followup" in done,
                    reminder_held=("installment_reminder", i.id) in held) for i in agreement.installments))
            decisions += core.plan_agreement(facts, day, contact_calendar(policy, day))
        renegotiated = {a.debtor_id for a in agreements}
        for agreement in broken:
            policy = self._policies.get(debtors[agreement.debtor_id].creditor_id)
            if (policy is None or f"agreement:{agreement.id}:broken" in done
                    or agreement.debtor_id in renegotiated):
                continue  # told already, or a new agreement made the notice moot
            facts = core.AgreementFacts(
                id=agreement.id, debtor_id=agreement.debtor_id, grace_days=0, status="broken",
                notice_pending=True, installments=tuple(core.InstallmentFacts(
                    id=i.id, number=i.number, due_date=i.due_date, amount=i.amount,
                    paid_amount=i.paid_amount) for i in agreement.installments))
            decisions += core.plan_agreement(facts, day, contact_calendar(policy, day))
        for promise in promises:
            policy = self._policies.get(debtors[promise.debtor_id].creditor_id)
            if policy is None:
                continue
            grace = policy.profile_for(0, promise.balance).promise_grace_days
            paid = await paid_since(session, promise.debtor_id, promise.created_at)
            facts_p = core.PromiseFacts(
                id=promise.id, debtor_id=promise.debtor_id, promised_date=promise.promised_date,
                target=promise.target, paid_since=paid, grace_days=grace,
                reminded=f"promise:{promise.id}:remind" in done,
                reminder_held=("promise_reminder", promise.id) in held)
            decisions += core.plan_promise(facts_p, day, contact_calendar(policy, day))
        return (decisions, {i: d.external_id for i, d in debtors.items()},
                {i: d.creditor_id for i, d in debtors.items()})

    async def _held(self, session: AsyncSession, day: date, creditor: str | None) -> set[tuple[str, int]]:
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

    def _profile(self, policy: Policy, agreement: db.Agreement) -> Any:
        agreed_on = agreement.created_at.date()
        worst = max((days_past_due(d.due_date, agreed_on) for d in agreement.debts), default=0)
        return policy.profile_for(worst, agreement.total)

    # -- decisions ------------------------------------------------------------------------

    async def _apply(self, session: AsyncSession, decision: core.Decision, day: date,
                     report: FollowUpReport) -> int:
        now = self._clock.now()
        audit = AuditLog(session)
        match decision:
            case core.RemindInstallment() | core.FollowUpInstallment():
                return await self._installment_message(session, decision, day, report)
            case core.BreakAgreement():
                return await self._break_agreement(session, decision, day, report)
            case core.NotifyBrokenAgreement():
                agreement = await session.get(db.Agreement, decision.agreement_id, options=[
                    selectinload(db.Agreement.installments), selectinload(db.Agreement.debts)])
                if agreement is None or agreement.status != db.AgreementStatus.BROKEN:
                    return 0
                late = next(i for i in agreement.installments if i.id == decision.installment_id)
                return await self._notify_broken(session, agreement, late, day, report)
            case core.KeepAgreement():
                agreement = await session.get(db.Agreement, decision.agreement_id,
                                              options=[selectinload(db.Agreement.debts)])
                if agreement is not None and agreement.status == db.AgreementStatus.ACTIVE:
                    agreement.status = db.AgreementStatus.KEPT.value
                    for debt in agreement.debts:
                        debt.status = db.DebtStatus.PAID.value
                    await audit.record(AuditKind.AGREEMENT_KEPT, "system", debtor_id=decision.debtor_id,
                                       data={"agreement_id": agreement.id}, at=now)
                return 0
            case core.RemindPromise():
                return await self._promise_reminder(session, decision, day, report)
            case core.KeepPromise() | core.BreakPromise():
                promise = await session.get(Promise, decision.promise_id)
                if promise is None or promise.status != PromiseStatus.PENDING:
                    return 0
                kept = isinstance(decision, core.KeepPromise)
                promise.status = (PromiseStatus.KEPT if kept else PromiseStatus.BROKEN).value
                promise.resolved_at = now
                await audit.record(AuditKind.PROMISE_KEPT if kept else AuditKind.PROMISE_BROKEN, "system",
                                   debtor_id=decision.debtor_id,
                                   data={"promise_id": promise.id,
                                         "promised_date": promise.promised_date.isoformat()}, at=now)
                if not kept:
                    await audit.record(AuditKind.CADENCE_RESUMED, "system", debtor_id=decision.debtor_id,
                                       data={"reason": "promise_broken"}, at=now)
                return 0
        raise TypeError(f"unknown decision {decision!r}")

    async def _installment_message(self, session: AsyncSession,
                                   decision: core.RemindInstallment | core.FollowUpInstallment,
                                   day: date, report: FollowUpReport) -> int:
        reminder = isinstance(decision, core.RemindInstallment)
        kind = "remind" if reminder else "followup"
        key = f"installment:{decision.installment_id}:{kind}"
        if await FollowUpLog(session).done_keys([key]):
            return 0
        agreement = await session.get(db.Agreement, decision.agreement_id, options=[
            selectinload(db.Agreement.installments), selectinload(db.Agreement.debts)])
        if agreement is None or agreement.status != db.AgreementStatus.ACTIVE:
            return 0
        template = "installment_reminder" if reminder else "installment_overdue"
        outreach = Outreach(key, kind, template, decision.installment_id,
                            await self._filed_under(session, decision.debtor_id, agreement))
        reach = await self._reach(session, decision.debtor_id, outreach, day, report)
        if reach is None or not await self._claim(session, outreach, decision.debtor_id, day):
            return 0
        variables: dict[str, Any] = {"number": decision.number, "count": len(agreement.installments),
                                     "amount": decision.amount_due, "due_date": decision.due_date}
        if isinstance(decision, core.FollowUpInstallment):
            variables["grace_days"] = decision.grace_days
        installment = next(i for i in agreement.installments if i.id == decision.installment_id)
        return await self._send(session, reach, decision.debtor_id, [(template, variables, ())], key,
                                instructions=[installment])

    async def _promise_reminder(self, session: AsyncSession, decision: core.RemindPromise, day: date,
                                report: FollowUpReport) -> int:
        key = f"promise:{decision.promise_id}:remind"
        if await FollowUpLog(session).done_keys([key]):
            return 0
        promise = await session.get(Promise, decision.promise_id)
        if promise is None or promise.status != PromiseStatus.PENDING:
            return 0
        outreach = Outreach(key, "remind", "promise_reminder", promise.id,
                            await self._filed_under(session, decision.debtor_id))
        reach = await self._reach(session, decision.debtor_id, outreach, day, report)
        if reach is None or not await self._claim(session, outreach, decision.debtor_id, day):
            return 0
        variables = {"amount": decision.amount_due, "date": decision.promised_date}
        sent = await self._send(session, reach, decision.debtor_id, [("promise_reminder", variables, ())],
                                key, promise=promise)
        promise.reminded_at = self._clock.now()
        return sent

    async def _break_agreement(self, session: AsyncSession, decision: core.BreakAgreement, day: date,
                               report: FollowUpReport) -> int:
        """The agreement breaks whatever the contact rules say; the notice obeys them."""
        agreement = await session.get(db.Agreement, decision.agreement_id, options=[
            selectinload(db.Agreement.installments), selectinload(db.Agreement.debts)])
        if agreement is None or agreement.status != db.AgreementStatus.ACTIVE:
            return 0
        now = self._clock.now()
        agreement.status = db.AgreementStatus.BROKEN.value
        late = next(i for i in agreement.installments if i.id == decision.installment_id)
        for item in agreement.installments:
            if item.paid_amount < item.amount:
                item.status = db.InstallmentStatus.LATE.value
        for debt in agreement.debts:
            if debt.status == db.DebtStatus.IN_AGREEMENT:
                debt.status = db.DebtStatus.OPEN.value
        for charge in await session.scalars(select(PaymentCharge).where(
                PaymentCharge.installment_id.in_([i.id for i in agreement.installments]),
                PaymentCharge.status == ChargeStatus.OPEN.value)):
            charge.status = ChargeStatus.CANCELLED.value
        audit = AuditLog(session)
        await audit.record(AuditKind.AGREEMENT_BROKEN, "system", debtor_id=agreement.debtor_id,
                           data={"agreement_id": agreement.id, "installment": late.number,
                                 "days_late": decision.days_late}, at=now)
        await audit.record(AuditKind.CADENCE_RESUMED, "system", debtor_id=agreement.debtor_id,
                           data={"reason": "agreement_broken"}, at=now)
        # The negotiation starts afresh: the bot may offer a new agreement within the limits.
        offer = await session.get(db.Offer, agreement.offer_id) if agreement.offer_id else None
        if offer is not None:
            conversation = await session.get(db.Conversation, offer.conversation_id)
            if conversation is not None:
                conversation.negotiation = None
        await session.flush()
        return await self._notify_broken(session, agreement, late, day, report)

    async def _notify_broken(self, session: AsyncSession, agreement: db.Agreement, late: db.Installment,
                             day: date, report: FollowUpReport) -> int:
        key = f"agreement:{agreement.id}:broken"
        if await FollowUpLog(session).done_keys([key]):
            return 0
        outreach = Outreach(key, "notice", "agreement_broken", agreement.id,
                            await self._filed_under(session, agreement.debtor_id, agreement))
        reach = await self._reach(session, agreement.debtor_id, outreach, day, report)
        if reach is None or not await self._claim(session, outreach, agreement.debtor_id, day):
            return 0
        variables = {"amount": late.amount - late.paid_amount, "due_date": late.due_date}
        return await self._send(session, reach, agreement.debtor_id,
                                [("agreement_broken", variables, MENU_BUTTONS)], key)

    # -- the contact rules ----------------------------------------------------------------

    async def _reach(self, session: AsyncSession, debtor_id: int, outreach: Outreach, day: date,
                     report: FollowUpReport) -> Reach | None:
        """The contact and the moment the follow-up may use on ``day``; else why not, recorded
        as a decision not to contact (it is tried again on the next contact day)."""
        debtor = await session.get(db.Debtor, debtor_id)
        assert debtor is not None
        policy = self._policies[debtor.creditor_id]
        reason, contact = await self._reachable_contact(session, debtor_id)
        at: datetime | None = None
        if contact is not None:
            zone = contact.timezone or debtor.timezone or policy.creditor.timezone
            verdict = rules_calendar(policy, day).decide_day(day, zone, self._clock.now())
            reason, at = verdict.reason, verdict.at
        if reason is None:
            made = (await session.execute(recent_contacts(day, debtor_ids=[debtor_id]))).first()
            today, week = (int(made.today), int(made.week)) if made is not None else (0, 0)
            reason = cap_reason(policy.contact_rules.max_contacts, today, week)
        if reason is not None or contact is None or at is None:
            reason = reason or SkipReason.NO_CHANNEL
            await self._hold(session, debtor, outreach, reason, day)
            report.held.append({"debtor": debtor.external_id, "key": outreach.key, "reason": reason.value})
            return None
        return Reach(contact, at)

    async def _reachable_contact(self, session: AsyncSession, debtor_id: int
                                 ) -> tuple[SkipReason | None, db.Contact | None]:
        """The active contact the debtor last wrote from (else the first active one), or why
        there is none: a person owns a conversation, a contact opted out, is the wrong person."""
        rows = (await session.execute(
            select(db.Contact, db.Conversation.state, db.Conversation.last_inbound_at)
            .outerjoin(db.Conversation, db.Conversation.contact_id == db.Contact.id)
            .where(db.Contact.debtor_id == debtor_id).order_by(db.Contact.id))).all()
        if any(state == db.ConversationState.HUMAN for _, state, _ in rows):
            return SkipReason.HUMAN, None
        usable = [(contact, last) for contact, state, last in rows
                  if contact.status == db.ContactStatus.ACTIVE and state in (None, db.ConversationState.BOT)]
        if usable:
            epoch = datetime.min.replace(tzinfo=ZoneInfo("UTC"))
            return None, max(usable, key=lambda r: (r[1] or epoch, -r[0].id))[0]
        statuses = {contact.status for contact, _, _ in rows}
        if db.ContactStatus.OPTED_OUT in statuses or any(s == db.ConversationState.OPTED_OUT
                                                         for _, s, _ in rows):
            return SkipReason.OPTED_OUT, None
        if db.ContactStatus.WRONG_PERSON in statuses:
            return SkipReason.WRONG_PERSON, None
        return SkipReason.NO_CHANNEL, None

    async def _filed_under(self, session: AsyncSession, debtor_id: int,
                           agreement: db.Agreement | None = None) -> int | None:
        """The debt a decision about this follow-up is filed under: the agreement's first debt,
        else the debtor's oldest."""
        if agreement is not None and agreement.debts:
            return min(d.id for d in agreement.debts)
        found: int | None = await session.scalar(
            select(db.Debt.id).where(db.Debt.debtor_id == debtor_id)
            .order_by(db.Debt.due_date, db.Debt.id).limit(1))
        return found

    def _insert(self, session: AsyncSession, model: type[Any]) -> Any:
        table = table_of(model)
        return pg.insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite.insert(table)

    async def _hold(self, session: AsyncSession, debtor: db.Debtor, outreach: Outreach, reason: SkipReason,
                    day: date) -> None:
        """Record the decision not to contact (one row per follow-up and reason, its days counted)."""
        logger.info("follow-up %s of %s held back: %s", outreach.key, debtor.external_id, reason.value)
        if outreach.debt_id is None:
            return  # a debtor without debts: nothing to file it under
        now = self._clock.now()
        table = table_of(ContactDecision)
        statement = self._insert(session, ContactDecision).values(
            creditor_id=debtor.creditor_id, debtor_id=debtor.id, debt_id=outreach.debt_id,
            segment=FOLLOWUP_SEGMENT, cadence=outreach.template, step=outreach.ref_id,
            template=outreach.template, reason=reason.value, detail=outreach.key[:64],
            first_day=day, last_day=day, days=1, created_at=now, updated_at=now)
        excluded = statement.excluded
        await session.execute(statement.on_conflict_do_update(
            index_elements=["debt_id", "cadence", "step", "reason"],
            set_={"last_day": excluded.last_day, "days": table.c.days + 1, "updated_at": excluded.updated_at},
            where=table.c.last_day < excluded.last_day))

    async def _claim(self, session: AsyncSession, outreach: Outreach, debtor_id: int, day: date) -> bool:
        """Take the follow-up's key (``followup_events``); ``False`` if another run holds it."""
        statement = self._insert(session, FollowUpEvent).values(
            key=outreach.key, kind=outreach.kind, debtor_id=debtor_id, day=day, at=self._clock.now())
        claimed = await session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))
        return bool(getattr(claimed, "rowcount", 0))

    # -- sending --------------------------------------------------------------------------

    async def _send(self, session: AsyncSession, reach: Reach, debtor_id: int,
                    replies: Sequence[tuple[str, dict[str, Any], Sequence[Any]]], key: str, *,
                    instructions: Sequence[db.Installment] = (), promise: Promise | None = None) -> int:
        """Render and queue the messages to the contact, not before ``reach.at``; how many."""
        debtor = await session.get(db.Debtor, debtor_id)
        assert debtor is not None
        policy = self._policies[debtor.creditor_id]
        contact = reach.contact
        conversations = ConversationRepository(session)
        conversation = await conversations.get_or_create(contact)
        common = {"creditor_name": policy.creditor.name, "debtor_name": debtor.name,
                  "contact_name": (contact.name or "").split(" ")[0]}
        all_replies = [Reply(t, {**common, **v}, tuple(b)) for t, v, b in replies]
        charges: list[dict[str, Any]] = []
        if instructions:
            charges = await self._payments.instructions(session, policy, debtor, instructions)
        elif promise is not None:
            charge = await self._payments.for_promise(session, policy, debtor, promise)
            charges = [charge] if charge else []
        if charges:
            all_replies.append(Reply("payment_instructions", {**common, "charges": charges},
                                     media=instruction_picture(charges)))
        await self._outgoing.queue(session, contact, all_replies, f"followup:{key}:" + "{index}",
                                   Initiator.BOT, reach.at, debtor=debtor, conversation=conversation)
        await AuditLog(session).record(AuditKind.FOLLOWUP_SENT, "bot", debtor_id=debtor_id,
                                       conversation_id=conversation.id,
                                       data={"key": key, "templates": [r.template for r in all_replies]})
        return len(all_replies)
