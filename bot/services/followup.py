"""Carries out the day's follow-up of promises and installment plans (``acordo followup run``).

Loads the facts (active agreements with their installments, pending promises, what was paid
and which follow-ups were already done), asks the pure :func:`bot.negotiation.followup.plan`
what to do on the day, and applies each decision in its own transaction:

- reminders and follow-ups become bot-initiated messages: stored ``queued`` in the debtor's
  conversation and, on Telegram/WhatsApp/SMS, queued in the outbox with ``not_before`` the
  start of the day's contact window (an opt-out cancels them there); a follow-up key makes a
  re-run send nothing twice;
- a broken agreement: the debtor is told and offered a new agreement, unpaid installments
  are ``late``, its debts return to ``open`` (the régua takes them again) and the
  conversation's negotiation starts afresh; a kept agreement closes its debts;
- a broken promise is recorded (``promises.status``, the debtor's history) and the régua
  resumes; a kept one is closed.

The régua/worker schedules it daily; ``--dry-run`` only reports.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.negotiation import followup as core
from bot.negotiation.balance import days_past_due
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.rendering.renderer import TemplateRenderer
from bot.services.audit_kinds import AuditKind
from bot.services.clock import Clock
from bot.services.negotiation import MENU_BUTTONS
from bot.services.outcome import Reply
from bot.services.payments import PaymentDesk, paid_since
from bot.services.plain_values import encode
from bot.storage import models as db
from bot.storage.channel_models import Initiator
from bot.storage.channel_repositories import OutboxRepository
from bot.storage.payment_models import ChargeStatus, PaymentCharge, Promise, PromiseStatus
from bot.storage.payment_repositories import FollowUpLog
from bot.storage.repositories import AuditLog, ConversationRepository

logger = logging.getLogger(__name__)


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


def _decision_row(decision: core.Decision, debtors: dict[int, str]) -> dict[str, Any]:
    values = {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in vars(decision).items()}
    return {"action": type(decision).__name__, "debtor": debtors.get(decision.debtor_id, ""), **values}


class FollowUpService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policies: PolicyBook,
                 renderer: TemplateRenderer, clock: Clock, payments: PaymentDesk) -> None:
        self._sessions = sessions
        self._policies = policies
        self._renderer = renderer
        self._clock = clock
        self._payments = payments

    async def run(self, day: date, *, dry_run: bool = False) -> FollowUpReport:
        report = FollowUpReport(day, dry_run)
        async with self._sessions() as session:
            decisions, debtors = await self._plan(session, day)
        report.decisions = [_decision_row(d, debtors) for d in decisions]
        if dry_run:
            return report
        for decision in decisions:
            async with self._sessions() as session:
                report.messages += await self._apply(session, decision, day)
                await session.commit()
        return report

    # -- facts ----------------------------------------------------------------------------

    async def _plan(self, session: AsyncSession, day: date) -> tuple[list[core.Decision], dict[int, str]]:
        agreements = list(await session.scalars(
            select(db.Agreement)
            .options(selectinload(db.Agreement.installments), selectinload(db.Agreement.debts))
            .where(db.Agreement.status == db.AgreementStatus.ACTIVE.value).order_by(db.Agreement.id)))
        promises = list(await session.scalars(
            select(Promise).where(Promise.status == PromiseStatus.PENDING.value).order_by(Promise.id)))
        debtor_ids = {a.debtor_id for a in agreements} | {p.debtor_id for p in promises}
        debtor_rows = list(await session.scalars(select(db.Debtor).where(db.Debtor.id.in_(debtor_ids))))
        debtors = {d.id: d for d in debtor_rows}
        keys = [f"installment:{i.id}:{kind}" for a in agreements for i in a.installments
                for kind in ("remind", "followup")] + [f"promise:{p.id}:remind" for p in promises]
        done = await FollowUpLog(session).done_keys(keys)
        decisions: list[core.Decision] = []
        for agreement in agreements:
            debtor = debtors[agreement.debtor_id]
            policy = self._policies.get(debtor.creditor_id)
            if policy is None:
                continue
            facts = core.AgreementFacts(
                id=agreement.id, debtor_id=agreement.debtor_id,
                grace_days=self._profile(policy, agreement).agreement_grace_days,
                installments=tuple(core.InstallmentFacts(
                    id=i.id, number=i.number, due_date=i.due_date, amount=i.amount,
                    paid_amount=i.paid_amount, reminded=f"installment:{i.id}:remind" in done,
                    followed_up=f"installment:{i.id}:followup" in done) for i in agreement.installments))
            decisions += core.plan_agreement(facts, day, contact_calendar(policy, day))
        for promise in promises:
            debtor = debtors[promise.debtor_id]
            policy = self._policies.get(debtor.creditor_id)
            if policy is None:
                continue
            grace = policy.profile_for(0, promise.balance).promise_grace_days
            paid = await paid_since(session, promise.debtor_id, promise.created_at)
            facts_p = core.PromiseFacts(
                id=promise.id, debtor_id=promise.debtor_id, promised_date=promise.promised_date,
                target=promise.target, paid_since=paid, grace_days=grace,
                reminded=f"promise:{promise.id}:remind" in done)
            decisions += core.plan_promise(facts_p, day, contact_calendar(policy, day))
        return decisions, {i: d.external_id for i, d in debtors.items()}

    def _profile(self, policy: Policy, agreement: db.Agreement) -> Any:
        agreed_on = agreement.created_at.date()
        worst = max((days_past_due(d.due_date, agreed_on) for d in agreement.debts), default=0)
        return policy.profile_for(worst, agreement.total)

    # -- decisions ------------------------------------------------------------------------

    async def _apply(self, session: AsyncSession, decision: core.Decision, day: date) -> int:
        now = self._clock.now()
        audit = AuditLog(session)
        match decision:
            case core.RemindInstallment() | core.FollowUpInstallment():
                kind = "remind" if isinstance(decision, core.RemindInstallment) else "followup"
                return await self._installment_message(session, decision, kind, day)
            case core.BreakAgreement():
                return await self._break_agreement(session, decision, day)
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
                return await self._promise_reminder(session, decision, day)
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
                                   kind: str, day: date) -> int:
        key = f"installment:{decision.installment_id}:{kind}"
        if await FollowUpLog(session).done_keys([key]):
            return 0
        agreement = await session.get(db.Agreement, decision.agreement_id,
                                      options=[selectinload(db.Agreement.installments)])
        assert agreement is not None
        variables: dict[str, Any] = {"number": decision.number, "count": len(agreement.installments),
                                     "amount": decision.amount_due, "due_date": decision.due_date}
        replies = []
        if isinstance(decision, core.FollowUpInstallment):
            variables["grace_days"] = decision.grace_days
            replies.append(("installment_overdue", variables, ()))
        else:
            replies.append(("installment_reminder", variables, ()))
        installment = next(i for i in agreement.installments if i.id == decision.installment_id)
        sent = await self._send(session, decision.debtor_id, replies, key, day,
                                instructions=[installment])
        await FollowUpLog(session).record(key, kind, decision.debtor_id, day, self._clock.now())
        return sent

    async def _promise_reminder(self, session: AsyncSession, decision: core.RemindPromise, day: date) -> int:
        key = f"promise:{decision.promise_id}:remind"
        if await FollowUpLog(session).done_keys([key]):
            return 0
        promise = await session.get(Promise, decision.promise_id)
        assert promise is not None
        variables = {"amount": decision.amount_due, "date": decision.promised_date}
        sent = await self._send(session, decision.debtor_id, [("promise_reminder", variables, ())], key, day,
                                promise=promise)
        promise.reminded_at = self._clock.now()
        await FollowUpLog(session).record(key, "remind", decision.debtor_id, day, self._clock.now())
        return sent

    async def _break_agreement(self, session: AsyncSession, decision: core.BreakAgreement, day: date) -> int:
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
        variables = {"amount": late.amount - late.paid_amount, "due_date": late.due_date}
        return await self._send(session, agreement.debtor_id,
                                [("agreement_broken", variables, MENU_BUTTONS)],
                                f"agreement:{agreement.id}:broken", day)

    # -- sending --------------------------------------------------------------------------

    async def _send(self, session: AsyncSession, debtor_id: int,
                    replies: Sequence[tuple[str, dict[str, Any], Sequence[Any]]], key: str, day: date, *,
                    instructions: Sequence[db.Installment] = (), promise: Promise | None = None) -> int:
        """Render and queue the messages to the debtor's reachable contact; how many were queued."""
        debtor = await session.get(db.Debtor, debtor_id)
        assert debtor is not None
        policy = self._policies[debtor.creditor_id]
        contact = await self._reachable_contact(session, debtor_id)
        if contact is None:
            logger.info("follow-up %s: debtor %s has no reachable contact", key, debtor.external_id)
            return 0
        conversations = ConversationRepository(session)
        conversation = await conversations.get_or_create(contact)
        if conversation.state != db.ConversationState.BOT:
            return 0  # a person owns the conversation (or the contact opted out)
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
            all_replies.append(Reply("payment_instructions", {**common, "charges": charges}))
        locale = contact.locale or debtor.locale or self._renderer.default_locale
        not_before = self._window_start(policy, contact, debtor, day)
        for index, reply in enumerate(all_replies):
            text = self._renderer.render(reply.template, locale, dict(reply.variables))
            buttons = [{"title": self._renderer.render(b.title_template, locale, {}), "payload": b.payload}
                       for b in reply.buttons]
            message = await conversations.add_message(
                conversation, direction="out", author="bot", text=text, channel=contact.channel,
                status="queued", template=reply.template, template_vars=encode(reply.variables),
                buttons=buttons or None)
            if contact.channel != db.Channel.WEB:
                await OutboxRepository(session).enqueue(
                    channel=contact.channel, address=contact.address, text=text, buttons=buttons or None,
                    message_id=message.id, contact_id=contact.id, template=reply.template,
                    template_vars=encode(reply.variables), locale=locale, initiated_by=Initiator.BOT,
                    not_before=not_before, idempotency_key=f"followup:{key}:{index}")
        await AuditLog(session).record(AuditKind.FOLLOWUP_SENT, "bot", debtor_id=debtor_id,
                                       conversation_id=conversation.id,
                                       data={"key": key, "templates": [r.template for r in all_replies]})
        return len(all_replies)

    async def _reachable_contact(self, session: AsyncSession, debtor_id: int) -> db.Contact | None:
        """The active contact the debtor last wrote from (else the first active one)."""
        rows = (await session.execute(
            select(db.Contact, db.Conversation.last_inbound_at)
            .outerjoin(db.Conversation, db.Conversation.contact_id == db.Contact.id)
            .where(db.Contact.debtor_id == debtor_id,
                   db.Contact.status == db.ContactStatus.ACTIVE.value)
            .order_by(db.Contact.id))).all()
        if not rows:
            return None
        epoch = datetime.min.replace(tzinfo=ZoneInfo("UTC"))
        return max(rows, key=lambda r: (r[1] or epoch, -r[0].id))[0]

    def _window_start(self, policy: Policy, contact: db.Contact, debtor: db.Debtor, day: date) -> datetime:
        """When the day's contact window opens in the debtor's time zone (now if already open)."""
        zone = ZoneInfo(contact.timezone or debtor.timezone or policy.creditor.timezone)
        window = policy.contact_rules.windows().get(day.weekday())
        start = datetime.combine(day, window.start if window else time(9, 0), tzinfo=zone)
        return max(start, self._clock.now())
