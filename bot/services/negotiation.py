"""Carries out the debtor's commands: loads the facts, asks the pure core, stores the result.

One command runs in one database transaction. Replies are template keys with
plain variables; the app renders them for the debtor's locale.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.conversation import commands as cmd
from bot.conversation.outcome import Button, Outcome, Reply
from bot.dialogue.names import Slot
from bot.negotiation import machine
from bot.negotiation.balance import DebtPosition, balance_on, days_past_due
from bot.negotiation.offers import Limits, Offer
from bot.negotiation.promises import PromiseDate, check_promise_date, latest_promise_date
from bot.negotiation.proposals import Proposal
from bot.policies import PolicyBook
from bot.policies.models import NegotiationProfile, Policy
from bot.services.audit_kinds import AuditKind
from bot.services.opt_out import suppress_contact
from bot.services.outgoing import locale_of
from bot.services.payment_pictures import instruction_picture
from bot.services.payments import PaymentDesk
from bot.storage import models as db
from bot.storage.payment_repositories import PromiseRepository
from bot.storage.repositories import (
    AgreementRepository,
    AuditLog,
    ConversationRepository,
    PortfolioRepository,
)
from bot.understanding.acceptance import Acceptance, is_stale_refusal, judge_acceptance
from bot.understanding.consent import button_payload, is_clear_opt_out, offer_payload
from bot.understanding.values import (
    parse_amount,
    parse_date,
    parse_installments,
    parse_proposal,
    parse_proposal_answer,
)

OPT_OUT_BUTTONS = (Button("button_stop_messages", "/opt_out"),)
MENU_BUTTONS = (
    Button("button_debt_details", "/ask_debt_details"),
    Button("button_pay_in_full", "/pay_in_full"),
    Button("button_installments", "/request_installments"),
)
# Answers to "which terms?" without concrete terms before a person takes over.
MAX_PROPOSAL_ATTEMPTS = 2


@dataclass
class DebtorFile:
    """Everything one command needs about the debtor behind a conversation."""

    session: AsyncSession
    conversation: db.Conversation
    contact: db.Contact
    debtor: db.Debtor
    policy: Policy
    today: date
    debts: list[db.Debt]
    balance: Decimal
    profile: NegotiationProfile
    state: machine.NegotiationState

    @property
    def common(self) -> dict[str, Any]:
        return {
            "creditor_name": self.policy.creditor.name,
            "debtor_name": self.debtor.name,
            "contact_name": (self.contact.name or "").split(" ")[0],
        }


def offer_buttons(offer: Offer) -> tuple[Button, ...]:
    """Accept and refuse, both naming the offer: a button under an older offer is stale."""
    return (Button("button_accept", offer_payload("affirm", offer.reference)),
            Button("button_refuse", offer_payload("deny", offer.reference)))


def offer_variables(offer: Offer) -> dict[str, Any]:
    return {
        "kind": offer.kind,
        "balance": offer.balance,
        "total": offer.total,
        "discount_percent": offer.discount_percent,
        "discount_amount": offer.balance - offer.total if offer.total < offer.balance else Decimal(
            "0.00"
        ),
        "monthly_interest_percent": offer.monthly_interest_percent,
        "count": offer.count,
        "installments": [
            {"number": i.number, "due_date": i.due_date, "amount": i.amount}
            for i in offer.installments
        ],
    }


def hours_variables(policy: Policy) -> list[dict[str, str]]:
    return [{"days": days, "window": window} for days, window in policy.contact_rules.hours.items()]


def _instructions_reply(file: DebtorFile, charges: list[dict[str, Any]]) -> Reply:
    """How to pay ``charges``, with the QR code of the next PIX charge due as a picture."""
    return Reply("payment_instructions", {**file.common, "charges": charges},
                 media=instruction_picture(charges))


class NegotiationService:
    """Executes :mod:`bot.services.commands` for a conversation (by its public id)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], policies: PolicyBook,
                 clock: Clock, payments: PaymentDesk | None = None) -> None:
        self._sessions = sessions
        self._policies = policies
        self._clock = clock
        self._payments = payments
        self._handlers: dict[type[cmd.Command], Callable[[DebtorFile, Any], Awaitable[Outcome]]] = {
            cmd.Greet: self._greet,
            cmd.SayGoodbye: self._goodbye,
            cmd.ShowDebtDetails: self._debt_details,
            cmd.OfferFullPayment: self._negotiate,
            cmd.OfferDiscount: self._negotiate,
            cmd.OfferInstallments: self._negotiate,
            cmd.EvaluateProposal: self._evaluate_proposal,
            cmd.AskProposalTerms: self._ask_proposal_terms,
            cmd.ValidateProposalText: self._validate_proposal_text,
            cmd.AcceptOffer: self._negotiate,
            cmd.RefuseOffer: self._negotiate,
            cmd.ReportHardship: self._negotiate,
            cmd.Acknowledge: self._acknowledge,
            cmd.RecordPromise: self._promise,
            cmd.RecordAlreadyPaid: self._already_paid,
            cmd.HandOffToAgent: self._handoff_requested,
            cmd.OptOut: self._opt_out,
            cmd.MarkWrongPerson: self._wrong_person,
            cmd.ExplainPaymentMethod: self._payment_method,
            cmd.ScheduleCallback: self._callback,
            cmd.DisclaimIdentity: self._identity,
            cmd.DeclineOutOfScope: self._out_of_scope,
            cmd.Clarify: self._clarify,
        }

    async def execute(self, conversation_id: str, command: cmd.Command) -> Outcome:
        async with self._sessions() as session:
            file = await self._open(session, conversation_id)
            if file is None:
                return Outcome(replies=(Reply("unknown_sender"),))
            if file.contact.status == "wrong_person":
                return Outcome(replies=(Reply("wrong_person_closed"),), offer_pending=False)
            if not isinstance(command, cmd.Clarify):
                file.conversation.fallback_count = 0
            outcome = await self._handlers[type(command)](file, command)
            await session.commit()
            return outcome

    # -- loading ---------------------------------------------------------------------------

    async def debtor_file(self, session: AsyncSession, conversation_id: str) -> DebtorFile | None:
        """Everything about the debtor behind a conversation (for the agent desk)."""
        return await self._open(session, conversation_id)

    async def _open(self, session: AsyncSession, conversation_id: str) -> DebtorFile | None:
        conversations = ConversationRepository(session)
        conversation = await conversations.by_public_id(conversation_id)
        if conversation is None:
            return None
        contact = conversation.contact
        debtor = contact.debtor
        policy = self._policies[debtor.creditor_id]
        zone = ZoneInfo(contact.timezone or debtor.timezone or policy.creditor.timezone)
        today = self._clock.now().astimezone(zone).date()
        debts = await PortfolioRepository(session).debts_for(debtor.id, statuses=("open",))
        positions = [
            DebtPosition(external_id=d.external_id, principal=d.amount, due_date=d.due_date,
                         paid=d.paid_amount)
            for d in debts
        ]
        balance = sum((balance_on(p, today, policy.charges) for p in positions), Decimal("0.00"))
        worst = max((days_past_due(p.due_date, today) for p in positions), default=0)
        state = (
            machine.NegotiationState.model_validate(conversation.negotiation)
            if conversation.negotiation
            else machine.NegotiationState()
        )
        return DebtorFile(session, conversation, contact, debtor, policy, today, debts, balance,
                          policy.profile_for(worst, balance), state)

    # -- negotiation -----------------------------------------------------------------------

    def _event(self, file: DebtorFile, command: cmd.Command) -> machine.Event | None:
        match command:
            case cmd.OfferFullPayment():
                return machine.PayInFull()
            case cmd.OfferDiscount():
                return machine.AskDiscount()
            case cmd.OfferInstallments():
                return machine.AskInstallments(count=parse_installments(command.text))
            case cmd.EvaluateProposal():
                proposal = self._proposal(file, command.answer, command.text)
                return None if proposal.is_empty else machine.Propose(proposal=proposal)
            case cmd.AcceptOffer():
                return machine.Accept()
            case cmd.RefuseOffer():
                return machine.Refuse()
            case cmd.ReportHardship():
                return machine.Hardship()
        raise TypeError(f"not a negotiation command: {command!r}")

    async def _negotiate(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        if file.state.stage == machine.Stage.AGREED:
            return await self._already_agreed(file)
        if file.balance <= 0:
            return Outcome(replies=(Reply("no_open_debt", file.common),), offer_pending=False)
        threshold = file.policy.handoff.balance_above
        if threshold is not None and file.balance > threshold:
            return await self._handoff(file, "balance_above")
        not_yet = await self._not_on_purpose(file, command)
        if not_yet is not None:
            return not_yet
        event = self._event(file, command)
        if event is None:  # no concrete terms: the dialogue asks for them (proposal form)
            return Outcome(slots={Slot.TERMS_MISSING.value: True})
        limits = Limits.for_bot(file.profile)
        current = file.state.current_offer
        if isinstance(command, cmd.AcceptOffer) and current is not None and current.created_by == "agent":
            # An offer a human agent made (up to the agent limits) stays acceptable after hand back.
            limits = Limits.for_agent(file.profile, file.policy.handoff.agent_limits)
        context = machine.NegotiationContext(
            balance=file.balance, today=file.today, limits=limits,
            max_rounds=file.profile.max_rounds,
        )
        state, decisions = machine.decide(file.state, event, context)
        file.conversation.negotiation = state.model_dump(mode="json")
        file.state = state
        replies: list[Reply] = []
        if isinstance(command, cmd.ReportHardship):
            replies.append(Reply("hardship_acknowledged", file.common))
        offer_pending: bool | None = None
        for decision in decisions:
            outcome = await self._carry_out(file, decision)
            if outcome.paused:
                return Outcome(tuple(replies) + outcome.replies, False, True)
            replies.extend(outcome.replies)
            offer_pending = outcome.offer_pending
        return Outcome(tuple(replies), offer_pending)

    async def _not_on_purpose(self, file: DebtorFile, command: cmd.Command) -> Outcome | None:
        """The reply instead of accepting (or refusing) when the debtor's answer does not
        clearly concern the current offer; ``None`` to go on (``negotiation/acceptance.py``)."""
        offer = file.state.current_offer
        pending = offer if file.state.stage == machine.Stage.OFFERED else None
        current = pending.reference if pending is not None else None
        if isinstance(command, cmd.RefuseOffer):
            verdict = Acceptance.STALE if is_stale_refusal(command.text, current) else None
        elif isinstance(command, cmd.AcceptOffer):
            verdict = judge_acceptance(command.text, command.intent, command.confidence,
                                       current=current, on_screen=await self._offer_on_screen(file))
        else:
            return None
        if pending is None or verdict in (None, Acceptance.ACCEPT, Acceptance.NOTHING):
            return None
        template = "offer_replaced" if verdict == Acceptance.STALE else "confirm_accept"
        variables = {**file.common, "offer": offer_variables(pending)}
        return Outcome((Reply(template, variables, offer_buttons(pending)),), True)

    async def _offer_on_screen(self, file: DebtorFile) -> str | None:
        """The reference of the offer the last message to the debtor showed (its accept button)."""
        last = await file.session.scalar(
            select(db.Message)
            .where(db.Message.conversation_id == file.conversation.id,
                   db.Message.direction == "out")
            .order_by(db.Message.id.desc()).limit(1))
        for button in (last.buttons or []) if last is not None else []:
            payload = button_payload(str(button.get("payload", "")))
            if payload is not None and payload.intent == "affirm" and payload.offer_id:
                return payload.offer_id
        return None

    async def _evaluate_proposal(self, file: DebtorFile, command: cmd.EvaluateProposal) -> Outcome:
        """Always says whether terms were missing and clears the form's answer."""
        outcome = await self._negotiate(file, command)
        slots = {Slot.TERMS_MISSING.value: False, Slot.PROPOSAL_TEXT.value: None, **outcome.slots}
        return replace(outcome, slots=slots)

    async def _ask_proposal_terms(self, file: DebtorFile, command: cmd.AskProposalTerms) -> Outcome:
        template = "ask_proposal_terms" if command.retry else "proposal_not_understood"
        return Outcome((Reply(template, file.common),))

    async def _validate_proposal_text(self, file: DebtorFile,
                                      command: cmd.ValidateProposalText) -> Outcome:
        """Keep an answer that states terms; else ask again, up to MAX_PROPOSAL_ATTEMPTS
        answers, then hand off to a person (the form ends with the paused conversation)."""
        if self.terms_understood(file, command.text):
            return Outcome(slots={Slot.PROPOSAL_TEXT.value: command.text})
        if command.attempt < MAX_PROPOSAL_ATTEMPTS:
            return Outcome(slots={Slot.PROPOSAL_TEXT.value: None})
        outcome = await self._handoff(file, "proposal_not_understood")
        return replace(outcome, slots={Slot.PROPOSAL_TEXT.value: None,
                                       Slot.TERMS_MISSING.value: False})

    def terms_understood(self, file: DebtorFile, answer: str) -> bool:
        """Whether an answer to "which terms?" states any concrete term."""
        return not self._proposal(file, answer, answer).is_empty

    def _proposal(self, file: DebtorFile, answer: str | None, text: str) -> Proposal:
        if answer is not None:
            return parse_proposal_answer(answer, file.today, self._locale(file))
        return parse_proposal(text, file.today, self._locale(file))

    async def _carry_out(self, file: DebtorFile, decision: machine.Decision) -> Outcome:
        agreements = AgreementRepository(file.session)
        conversation = file.conversation
        match decision:
            case machine.OfferMade(offer=offer, reason=reason):
                await self._store_offer(file, offer)
                template = "offer_full_payment" if offer.kind == "full_payment" else "offer_installments"
                variables = {**file.common, "offer": offer_variables(offer), "reason": reason}
                return Outcome((Reply(template, variables, offer_buttons(offer)),), offer_pending=True)
            case machine.CounterOffered(offer=offer, reasons=reasons):
                await self._store_offer(file, offer)
                variables = {**file.common, "offer": offer_variables(offer),
                             "reasons": list(reasons), "limits": self._limit_variables(file)}
                return Outcome((Reply("counter_offer", variables, offer_buttons(offer)),), True)
            case machine.AgreementReached(offer=offer):
                row = await agreements.latest_offer(conversation.id, status="proposed")
                if row is None:
                    row = await agreements.add_offer(conversation_id=conversation.id,
                                                     debtor_id=file.debtor.id, offer=offer)
                agreement = await agreements.create_agreement(
                    file.debtor.id, row, file.debts, created_by=offer.created_by
                )
                await AuditLog(file.session).record(
                    AuditKind.AGREEMENT_CREATED, "bot", debtor_id=file.debtor.id,
                    conversation_id=conversation.id,
                    data={"agreement_id": agreement.id, "kind": offer.kind,
                          "total": str(offer.total), "count": offer.count},
                )
                await PromiseRepository(file.session).cancel_pending(file.debtor.id)
                variables = {**file.common, "offer": offer_variables(offer),
                             "pix_key": file.policy.creditor.pix_key}
                replies = [Reply("agreement_created", variables)]
                replies += await self._instructions(file, agreement.installments)
                return Outcome(tuple(replies), offer_pending=False)
            case machine.HandedOff(reason=reason):
                return await self._handoff(file, reason)
            case machine.NothingToAccept():
                return Outcome((Reply("nothing_to_accept", file.common, MENU_BUTTONS),), False)
            case machine.AlreadyAgreed():
                return await self._already_agreed(file)
        raise TypeError(f"unknown decision {decision!r}")

    async def _store_offer(self, file: DebtorFile, offer: Offer) -> None:
        agreements = AgreementRepository(file.session)
        await agreements.mark_offers(file.conversation.id, "proposed", "superseded")
        await agreements.add_offer(
            conversation_id=file.conversation.id, debtor_id=file.debtor.id, offer=offer
        )
        await AuditLog(file.session).record(
            AuditKind.OFFER_MADE, offer.created_by, debtor_id=file.debtor.id,
            conversation_id=file.conversation.id,
            data={"kind": offer.kind, "total": str(offer.total), "count": offer.count,
                  "discount_percent": str(offer.discount_percent)},
        )

    def _limit_variables(self, file: DebtorFile) -> dict[str, Any]:
        profile = file.profile
        return {
            "installments_max": profile.installments_max,
            "installment_min_amount": profile.installment_min_amount,
            "discount_max_percent": profile.full_payment_discount_max_percent,
            "down_payment_min_percent": profile.down_payment_min_percent,
            "first_due_within_days": profile.first_due_within_days,
        }

    async def _already_agreed(self, file: DebtorFile) -> Outcome:
        offer = file.state.current_offer
        variables = {**file.common, "offer": offer_variables(offer) if offer else None,
                     "pix_key": file.policy.creditor.pix_key}
        return Outcome((Reply("already_agreed", variables),), offer_pending=False)

    # -- handoff, contact status -----------------------------------------------------------

    async def _handoff(self, file: DebtorFile, reason: str) -> Outcome:
        conversations = ConversationRepository(file.session)
        await conversations.set_state(file.conversation, "human", reason)
        await AuditLog(file.session).record(
            AuditKind.HANDOFF, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id, data={"reason": reason},
        )
        variables = {**file.common, "reason": reason, "hours": hours_variables(file.policy)}
        return Outcome((Reply("handoff", variables),), offer_pending=False, paused=True)

    async def _handoff_requested(self, file: DebtorFile, command: cmd.HandOffToAgent) -> Outcome:
        if command.intent == "dispute_debt":
            for debt in file.debts:
                debt.status = "disputed"
        if command.intent in file.policy.handoff.on_intents or command.intent == "request_human":
            return await self._handoff(file, command.intent or "request_human")
        template = "complaint_acknowledged" if command.intent == "complain" else "dispute_recorded"
        return Outcome((Reply(template, file.common),))

    async def _opt_out(self, file: DebtorFile, command: cmd.OptOut) -> Outcome:
        if not is_clear_opt_out(command.text, command.intent, command.confidence):
            return Outcome((Reply("confirm_opt_out", file.common, OPT_OUT_BUTTONS),))
        # Every channel of this contact at once, one audit event (bot/services/opt_out.py).
        await suppress_contact(file.session, file.contact, actor="bot", text=command.text,
                               conversation_id=file.conversation.id)
        return Outcome((Reply("opt_out_confirmed", file.common),), offer_pending=False)

    async def _wrong_person(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        file.contact.status = "wrong_person"
        await AuditLog(file.session).record(
            AuditKind.WRONG_PERSON, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id,
            data={"channel": file.contact.channel, "text": command.text[:500]},
        )
        return Outcome((Reply("wrong_person", {}),), offer_pending=False)

    # -- information and courtesy ----------------------------------------------------------

    async def _greet(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        variables = {**file.common, "has_debt": file.balance > 0}
        return Outcome((Reply("greet", variables, MENU_BUTTONS if file.balance > 0 else ()),))

    async def _goodbye(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        return Outcome((Reply("goodbye", file.common),))

    async def _debt_details(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        charges = file.policy.charges
        debts = [
            {
                "external_id": d.external_id,
                "description": d.description or "",
                "amount": d.amount,
                "due_date": d.due_date,
                "days_past_due": days_past_due(d.due_date, file.today),
                "balance": balance_on(
                    DebtPosition(external_id=d.external_id, principal=d.amount,
                                 due_date=d.due_date, paid=d.paid_amount),
                    file.today, charges,
                ),
            }
            for d in file.debts
        ]
        replies = [Reply("debt_details", {**file.common, "debts": debts, "total": file.balance,
                                          "today": file.today})]
        pending = file.state.current_offer
        if file.state.stage == machine.Stage.OFFERED and pending is not None:
            replies.append(Reply("offer_reminder", {**file.common, "offer": offer_variables(pending)},
                                 offer_buttons(pending)))
        return Outcome(tuple(replies))

    async def _acknowledge(self, file: DebtorFile, command: cmd.Acknowledge) -> Outcome:
        variables = {**file.common, "intent": command.intent}
        return Outcome((Reply("acknowledge", variables, MENU_BUTTONS),))

    async def _promise(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        when = parse_date(command.text, file.today, self._locale(file))
        if when is None:
            return Outcome((Reply("promise_needs_date", file.common),))
        match check_promise_date(when, file.today, file.profile.promise_max_days):
            case PromiseDate.PAST:
                return Outcome((Reply("promise_date_past", {**file.common, "date": when}),))
            case PromiseDate.TOO_FAR:
                latest = latest_promise_date(file.today, file.profile.promise_max_days)
                return Outcome((Reply("promise_date_too_far",
                                      {**file.common, "date": when, "latest": latest}),))
        amount = parse_amount(command.text, self._locale(file))
        if amount is not None and not 0 < amount <= file.balance:
            amount = None  # a number that is not a plausible payment (or more than owed)
        promise = await PromiseRepository(file.session).add(
            debtor_id=file.debtor.id, promised_date=when, balance=file.balance, amount=amount,
            conversation_id=file.conversation.id, at=self._clock.now())
        await AuditLog(file.session).record(
            AuditKind.PROMISE_TO_PAY, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id,
            data={"date": when.isoformat(), "balance": str(file.balance), "promise_id": promise.id,
                  "amount": str(amount) if amount is not None else None},
        )
        variables = {**file.common, "date": when, "balance": promise.target,
                     "pix_key": file.policy.creditor.pix_key}
        replies = [Reply("promise_recorded", variables)]
        if self._payments is not None:
            charge = await self._payments.for_promise(file.session, file.policy, file.debtor, promise)
            if charge is not None:
                replies.append(_instructions_reply(file, [charge]))
        return Outcome(tuple(replies))

    async def _already_paid(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        await AuditLog(file.session).record(
            AuditKind.ALREADY_PAID_REPORTED, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id, data={"text": command.text[:500]},
        )
        return Outcome((Reply("already_paid", file.common),))

    async def _payment_method(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        """With an active agreement (or a pending promise): how to pay each open installment."""
        agreements = await AgreementRepository(file.session).agreements_for(file.debtor.id)
        active = [a for a in agreements if a.status == "active"]
        if active:
            replies = await self._instructions(file, active[-1].installments)
            if replies:
                return Outcome(tuple(replies))
        promises = await PromiseRepository(file.session).pending(file.debtor.id)
        if promises and self._payments is not None:
            charge = await self._payments.for_promise(file.session, file.policy, file.debtor,
                                                      promises[-1])
            if charge is not None:
                return Outcome((_instructions_reply(file, [charge]),))
        variables = {**file.common, "pix_key": file.policy.creditor.pix_key,
                     "agreed": file.state.stage == machine.Stage.AGREED,
                     "offer": offer_variables(file.state.current_offer)
                     if file.state.current_offer else None}
        return Outcome((Reply("payment_method", variables),))

    async def _instructions(self, file: DebtorFile, installments: list[db.Installment]) -> list[Reply]:
        if self._payments is None:
            return []
        charges = await self._payments.instructions(file.session, file.policy, file.debtor, installments)
        if not charges:
            return []
        await AuditLog(file.session).record(
            AuditKind.PAYMENT_INSTRUCTIONS_SENT, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id,
            data={"txids": [c["txid"] for c in charges], "method": charges[0]["method"]})
        return [_instructions_reply(file, charges)]

    async def _callback(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        when = parse_date(command.text, file.today, self._locale(file))
        await AuditLog(file.session).record(
            AuditKind.CALLBACK_REQUESTED, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id,
            data={"date": when.isoformat() if when else None},
        )
        return Outcome((Reply("callback_later", {**file.common, "date": when}),))

    async def _identity(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        creditor = file.policy.creditor
        variables = {**file.common, "creditor_tax_id": creditor.tax_id}
        return Outcome((Reply("identity", variables),))

    async def _out_of_scope(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        return Outcome((Reply("out_of_scope", file.common, MENU_BUTTONS),))

    async def _clarify(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        file.conversation.fallback_count += 1
        if file.conversation.fallback_count >= file.policy.handoff.after_fallbacks:
            return await self._handoff(file, "fallbacks")
        return Outcome((Reply("clarify", file.common, MENU_BUTTONS),))

    def _locale(self, file: DebtorFile) -> str:
        return locale_of(file.contact, file.debtor)
