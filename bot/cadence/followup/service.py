"""Applies the day's follow-up decisions, each in its own transaction (see the package docstring)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from bot.cadence.caps import lock_creditor
from bot.cadence.followup.contacts import FollowUpContacts, Outreach, Reach
from bot.cadence.followup.planning import FollowUpReport, plan_day
from bot.clock import Clock
from bot.conversation.outcome import Reply
from bot.negotiation import followup as core
from bot.policies import PolicyBook
from bot.rendering.renderer import TemplateRenderer
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.replies import MENU_BUTTONS
from bot.services.outgoing import OutgoingMessages
from bot.services.payment_pictures import instruction_picture
from bot.services.payments import PaymentDesk
from bot.storage import models as db
from bot.storage.channel_models import Initiator
from bot.storage.payment_models import Promise, PromiseStatus
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory


def _decision_row(decision: core.Decision, debtors: dict[int, str]) -> dict[str, Any]:
    values = {k: (str(v) if isinstance(v, Decimal | date) else v) for k, v in vars(decision).items()}
    return {"action": type(decision).__name__, "debtor": debtors.get(decision.debtor_id, ""), **values}

class FollowUpService(FollowUpContacts):
    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook,
                 renderer: TemplateRenderer, clock: Clock, payments: PaymentDesk,
                 picture_channels: Collection[str] = ()) -> None:
        super().__init__(policies, clock)
        self._uow = uow
        self._renderer = renderer
        self._payments = payments
        self._outgoing = OutgoingMessages(renderer, picture_channels)  # pictures: the PIX QR

    async def run(self, day: date, *, creditor: str | None = None, dry_run: bool = False) -> FollowUpReport:
        """Plan and apply ``day``'s follow-up (of one creditor, or of all)."""
        if creditor is not None and creditor not in self._policies:
            raise ValueError(f"unknown creditor {creditor!r}: no policies/{creditor}.yaml is loaded")
        report = FollowUpReport(day, dry_run)
        async with self._uow() as uow:
            decisions, names, creditors = await plan_day(uow.session, day, creditor, self._policies)
        report.decisions = [_decision_row(d, names) for d in decisions]
        if dry_run:
            return report
        for decision in decisions:
            async with self._uow() as uow:
                # The creditor's lock is held until the commit: the decision's caps stay exact.
                await lock_creditor(uow.session, creditors[decision.debtor_id])
                report.messages += await self._apply(uow, decision, day, report)
                await uow.commit()
        return report

    # -- decisions ------------------------------------------------------------------------

    async def _apply(self, uow: UnitOfWork, decision: core.Decision, day: date,
                     report: FollowUpReport) -> int:
        now = self._clock.now()
        audit = uow.audit
        match decision:
            case core.RemindInstallment() | core.FollowUpInstallment():
                return await self._installment_message(uow, decision, day, report)
            case core.BreakAgreement():
                return await self._break_agreement(uow, decision, day, report)
            case core.NotifyBrokenAgreement():
                agreement = await uow.agreements.agreement_with_terms(decision.agreement_id)
                if agreement is None or agreement.status != db.AgreementStatus.BROKEN:
                    return 0
                late = next(i for i in agreement.installments if i.id == decision.installment_id)
                return await self._notify_broken(uow, agreement, late, day, report)
            case core.KeepAgreement():
                agreement = await uow.agreements.agreement_with_terms(decision.agreement_id)
                if agreement is not None and agreement.status == db.AgreementStatus.ACTIVE:
                    agreement.status = db.AgreementStatus.KEPT.value
                    for debt in agreement.debts:
                        debt.status = db.DebtStatus.PAID.value
                    await audit.record(AuditKind.AGREEMENT_KEPT, "system", debtor_id=decision.debtor_id,
                                       data={"agreement_id": agreement.id}, at=now)
                return 0
            case core.RemindPromise():
                return await self._promise_reminder(uow, decision, day, report)
            case core.KeepPromise() | core.BreakPromise():
                promise = await uow.promises.get(decision.promise_id)
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

    async def _installment_message(self, uow: UnitOfWork,
                                   decision: core.RemindInstallment | core.FollowUpInstallment,
                                   day: date, report: FollowUpReport) -> int:
        reminder = isinstance(decision, core.RemindInstallment)
        kind = "remind" if reminder else "followup"
        key = f"installment:{decision.installment_id}:{kind}"
        if await uow.followup_log.done_keys([key]):
            return 0
        agreement = await uow.agreements.agreement_with_terms(decision.agreement_id)
        if agreement is None or agreement.status != db.AgreementStatus.ACTIVE:
            return 0
        template = "installment_reminder" if reminder else "installment_overdue"
        outreach = Outreach(key, kind, template, decision.installment_id,
                            await self._filed_under(uow, decision.debtor_id, agreement))
        reach = await self._reach(uow, decision.debtor_id, outreach, day, report)
        if reach is None or not await self._claim(uow, outreach, decision.debtor_id, day):
            return 0
        variables: dict[str, Any] = {"number": decision.number, "count": len(agreement.installments),
                                     "amount": decision.amount_due, "due_date": decision.due_date}
        if isinstance(decision, core.FollowUpInstallment):
            variables["grace_days"] = decision.grace_days
        installment = next(i for i in agreement.installments if i.id == decision.installment_id)
        return await self._send(uow, reach, decision.debtor_id, [(template, variables, ())], key,
                                instructions=[installment], count=len(agreement.installments))

    async def _promise_reminder(self, uow: UnitOfWork, decision: core.RemindPromise, day: date,
                                report: FollowUpReport) -> int:
        key = f"promise:{decision.promise_id}:remind"
        if await uow.followup_log.done_keys([key]):
            return 0
        promise = await uow.promises.get(decision.promise_id)
        if promise is None or promise.status != PromiseStatus.PENDING:
            return 0
        outreach = Outreach(key, "remind", "promise_reminder", promise.id,
                            await self._filed_under(uow, decision.debtor_id))
        reach = await self._reach(uow, decision.debtor_id, outreach, day, report)
        if reach is None or not await self._claim(uow, outreach, decision.debtor_id, day):
            return 0
        variables = {"amount": decision.amount_due, "date": decision.promised_date}
        sent = await self._send(uow, reach, decision.debtor_id, [("promise_reminder", variables, ())],
                                key, promise=promise)
        promise.reminded_at = self._clock.now()
        return sent

    async def _break_agreement(self, uow: UnitOfWork, decision: core.BreakAgreement, day: date,
                               report: FollowUpReport) -> int:
        """The agreement breaks whatever the contact rules say; the notice obeys them."""
        agreement = await uow.agreements.agreement_with_terms(decision.agreement_id)
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
        await uow.charges.cancel_open([i.id for i in agreement.installments])
        audit = uow.audit
        await audit.record(AuditKind.AGREEMENT_BROKEN, "system", debtor_id=agreement.debtor_id,
                           data={"agreement_id": agreement.id, "installment": late.number,
                                 "days_late": decision.days_late}, at=now)
        await audit.record(AuditKind.CADENCE_RESUMED, "system", debtor_id=agreement.debtor_id,
                           data={"reason": "agreement_broken"}, at=now)
        # The negotiation starts afresh: the bot may offer a new agreement within the limits.
        offer = await uow.session.get(db.Offer, agreement.offer_id) if agreement.offer_id else None
        if offer is not None:
            conversation = await uow.session.get(db.Conversation, offer.conversation_id)
            if conversation is not None:
                conversation.negotiation = None
        await uow.session.flush()
        return await self._notify_broken(uow, agreement, late, day, report)

    async def _notify_broken(self, uow: UnitOfWork, agreement: db.Agreement, late: db.Installment,
                             day: date, report: FollowUpReport) -> int:
        key = f"agreement:{agreement.id}:broken"
        if await uow.followup_log.done_keys([key]):
            return 0
        outreach = Outreach(key, "notice", "agreement_broken", agreement.id,
                            await self._filed_under(uow, agreement.debtor_id, agreement))
        reach = await self._reach(uow, agreement.debtor_id, outreach, day, report)
        if reach is None or not await self._claim(uow, outreach, agreement.debtor_id, day):
            return 0
        variables = {"amount": late.amount - late.paid_amount, "due_date": late.due_date}
        return await self._send(uow, reach, agreement.debtor_id,
                                [("agreement_broken", variables, MENU_BUTTONS)], key)

    # -- sending --------------------------------------------------------------------------

    async def _send(self, uow: UnitOfWork, reach: Reach, debtor_id: int,
                    replies: Sequence[tuple[str, dict[str, Any], Sequence[Any]]], key: str, *,
                    instructions: Sequence[db.Installment] = (), promise: Promise | None = None,
                    count: int = 1) -> int:
        """Render and queue the messages to the contact, not before ``reach.at``; how many."""
        debtor = await uow.session.get(db.Debtor, debtor_id)
        assert debtor is not None
        policy = self._policies[debtor.creditor_id]
        contact = reach.contact
        conversation = await uow.conversations.get_or_create(contact)
        common = {"creditor_name": policy.creditor.name, "debtor_name": debtor.name,
                  "contact_name": (contact.name or "").split(" ")[0]}
        all_replies = [Reply(t, {**common, **v}, tuple(b)) for t, v, b in replies]
        charges: list[dict[str, Any]] = []
        if instructions:
            charges = await self._payments.instructions(uow.session, policy, debtor, instructions)
        elif promise is not None:
            charge = await self._payments.for_promise(uow.session, policy, debtor, promise)
            charges = [charge] if charge else []
        if charges:
            all_replies.append(Reply("payment_instructions", {**common, "charges": charges, "count": count},
                                     media=instruction_picture(charges)))
        await self._outgoing.queue(uow, contact, all_replies, f"followup:{key}:" + "{index}",
                                   Initiator.BOT, reach.at, debtor=debtor, conversation=conversation)
        await uow.audit.record(AuditKind.FOLLOWUP_SENT, "bot", debtor_id=debtor_id,
                                       conversation_id=conversation.id,
                                       data={"key": key, "templates": [r.template for r in all_replies]})
        return len(all_replies)
