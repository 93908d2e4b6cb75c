"""Carries out the debtor's commands: loads the facts, asks the pure core, stores the result.

One command runs in one database transaction; the offer negotiation is here, the other
requests in :mod:`bot.services.negotiation.debtor_requests`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from bot.clock import Clock
from bot.conversation import commands as cmd
from bot.conversation.outcome import Outcome, Reply
from bot.dialogue.names import Slot
from bot.negotiation import machine
from bot.negotiation.offers import Limits
from bot.negotiation.proposals import Proposal
from bot.policies import PolicyBook
from bot.services.negotiation.agreement_records import record_agreement, store_offer
from bot.services.negotiation.debtor_file import DebtorFile, load_debtor_file
from bot.services.negotiation.debtor_requests import DebtorRequests
from bot.services.negotiation.hardship import (
    acknowledgement,
    hardship_handoff,
    hardship_limits,
    record_hardship,
)
from bot.services.negotiation.installment_choice import next_open
from bot.services.negotiation.payment_claims import claim_follow_up, goes_to_claim
from bot.services.negotiation.replies import MENU_BUTTONS, offer_buttons, offer_variables
from bot.services.negotiation.second_request import (
    NEGOTIATION,
    combine,
    in_answer_order,
    second_command,
)
from bot.services.payments import PaymentDesk
from bot.storage import models as db
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory
from bot.understanding.acceptance import Acceptance, is_stale_refusal, judge_acceptance
from bot.understanding.consent import button_payload
from bot.understanding.ordinals import asks_for_payment_details
from bot.understanding.values import parse_installments, parse_proposal, parse_proposal_answer

# Answers to "which terms?" without concrete terms before a person takes over.
MAX_PROPOSAL_ATTEMPTS = 2


class NegotiationService(DebtorRequests):
    """Executes :mod:`bot.conversation.commands` for a conversation (by its public id)."""

    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook,
                 clock: Clock, payments: PaymentDesk | None = None) -> None:
        super().__init__(clock, payments)
        self._uow = uow
        self._policies = policies
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
        async with self._uow() as uow:
            file = await self._open(uow, conversation_id)
            if file is None:
                return Outcome(replies=(Reply("unknown_sender"),))
            if file.contact.status == "wrong_person":
                return Outcome(replies=(Reply("wrong_person_closed"),), offer_pending=False)
            if not isinstance(command, cmd.Clarify):
                file.conversation.fallback_count = 0
            reason = hardship_handoff(file, command)
            if reason is not None:
                outcome = await self._hardship_handoff(file, command, reason)
            else:
                claimed = await claim_follow_up(file, command, self._clock)  # never a proposal
                outcome = claimed or await self._answer(file, command)
            await uow.commit()
            return outcome

    async def _answer(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        """The command's answer; with a second request in the same message ("quanto devo e
        dá pra parcelar?"), both answers in order (``second_request.py``). Once there is an
        agreement or nothing is owed, a message with a request for an offer is answered alone:
        the offer's handler already says so, or sends the installment's code ("o pix da 2ª
        parcela" read as installments), which a second answer would only repeat."""
        second = second_command(command)
        closed = file.state.stage == machine.Stage.AGREED or file.balance <= 0
        if second is not None and closed and (isinstance(second, NEGOTIATION)
                                              or isinstance(command, NEGOTIATION)):
            second = None
        if second is None:
            return await self._handlers[type(command)](file, command)
        first, then = in_answer_order(command, second)
        outcome = await self._handlers[type(first)](file, first)
        if outcome.paused:
            return outcome
        return combine(outcome, await self._handlers[type(then)](file, then))

    # -- loading ---------------------------------------------------------------------------

    async def debtor_file(self, uow: UnitOfWork, conversation_id: str) -> DebtorFile | None:
        """Everything about the debtor behind a conversation (for the agent desk)."""
        return await self._open(uow, conversation_id)

    async def _open(self, uow: UnitOfWork, conversation_id: str) -> DebtorFile | None:
        return await load_debtor_file(uow, conversation_id, self._policies, self._clock)

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
                proposal = command.terms or self._proposal(file, command.answer, command.text)
                return None if proposal.is_empty else machine.Propose(proposal=proposal)
            case cmd.AcceptOffer():
                return machine.Accept()
            case cmd.RefuseOffer():
                return machine.Refuse()
            case cmd.ReportHardship():
                return machine.Hardship()
        raise TypeError(f"not a negotiation command: {command!r}")

    async def _hardship_handoff(self, file: DebtorFile, command: cmd.Command, reason: str) -> Outcome:
        """A handoff word or intent of the policy's ``hardship:``: empathy, then a person."""
        category = await record_hardship(file, command.text, handed_off=reason)
        outcome = await self._handoff(file, reason)
        return replace(outcome, replies=(acknowledgement(file, category),) + outcome.replies)

    async def _negotiate(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        """A hardship statement is recorded and acknowledged first, whatever follows."""
        if not isinstance(command, cmd.ReportHardship):
            return await self._negotiate_offers(file, command)
        category = await record_hardship(file, command.text)
        outcome = await self._negotiate_offers(file, command)
        return replace(outcome, replies=(acknowledgement(file, category),) + outcome.replies)

    async def _negotiate_offers(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        if file.state.stage == machine.Stage.AGREED:
            if not isinstance(command, cmd.ReportHardship) and asks_for_payment_details(
                    command.text, self._locale(file)):
                return await self._payment_method(file, command)  # "o pix da 2ª parcela"
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
        extended: Limits | None = hardship_limits(file)
        current = file.state.current_offer
        if isinstance(command, cmd.AcceptOffer) and current is not None and current.created_by == "agent":
            # An offer a human agent made (up to the agent limits) stays acceptable after hand back.
            limits = Limits.for_agent(file.profile, file.policy.handoff.agent_limits)
            extended = None
        context = machine.NegotiationContext(
            balance=file.balance, today=file.today, limits=limits,
            max_rounds=file.profile.max_rounds, hardship_limits=extended,
        )
        state, decisions = machine.decide(file.state, event, context)
        file.conversation.negotiation = state.model_dump(mode="json")
        file.state = state
        replies: list[Reply] = []
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
        clearly concern the current offer; ``None`` to go on (``understanding/acceptance.py``)."""
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
        last = await file.uow.session.scalar(
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
        if self.terms_understood(file, command.text) or await goes_to_claim(file, command.text):
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
        match decision:
            case machine.OfferMade(offer=offer, reason=reason):
                await store_offer(file, offer)
                template = "offer_full_payment" if offer.kind == "full_payment" else "offer_installments"
                variables = {**file.common, "offer": offer_variables(offer), "reason": reason}
                return Outcome((Reply(template, variables, offer_buttons(offer)),), offer_pending=True)
            case machine.CounterOffered(offer=offer, reasons=reasons):
                await store_offer(file, offer)
                variables = {**file.common, "offer": offer_variables(offer),
                             "reasons": list(reasons), "limits": self._limit_variables(file)}
                return Outcome((Reply("counter_offer", variables, offer_buttons(offer)),), True)
            case machine.AgreementReached(offer=offer):
                agreement = await record_agreement(file, offer)
                variables = {**file.common, "offer": offer_variables(offer),
                             "pix_key": file.policy.creditor.pix_key}
                replies = [Reply("agreement_created", variables)]
                first = next_open(agreement.installments)  # one payment at a time
                replies += await self._instructions(file, [first] if first else [],
                                                    len(agreement.installments))
                return Outcome(tuple(replies), offer_pending=False)
            case machine.HandedOff(reason=reason):
                return await self._handoff(file, reason)
            case machine.NothingToAccept():
                return Outcome((Reply("nothing_to_accept", file.common, MENU_BUTTONS),), False)
            case machine.AlreadyAgreed():
                return await self._already_agreed(file)
        raise TypeError(f"unknown decision {decision!r}")

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
