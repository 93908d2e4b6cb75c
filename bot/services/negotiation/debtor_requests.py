"""The replies to the debtor's requests besides the offers: information, courtesy, promises,
payment, handoff to a person and the contact's status."""

from __future__ import annotations

from bot.clock import Clock
from bot.conversation import commands as cmd
from bot.conversation.outcome import Outcome, Reply
from bot.negotiation import machine
from bot.negotiation.balance import DebtPosition, balance_on, days_past_due
from bot.negotiation.promises import PromiseDate, check_promise_date, latest_promise_date
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.debtor_file import DebtorFile
from bot.services.negotiation.installment_choice import choose_installment
from bot.services.negotiation.payment_claims import record_claim
from bot.services.negotiation.replies import (
    MENU_BUTTONS,
    OPT_OUT_BUTTONS,
    hours_variables,
    instructions_reply,
    offer_buttons,
    offer_variables,
)
from bot.services.negotiation.status_answers import status_answer
from bot.services.opt_out import suppress_contact
from bot.services.outgoing import locale_of
from bot.services.payments import PaymentDesk
from bot.storage import models as db
from bot.understanding.consent import is_clear_opt_out
from bot.understanding.ordinals import installment_number
from bot.understanding.values import parse_amount, parse_date


class DebtorRequests:
    """The handlers of the commands that are not part of the offer negotiation;
    :class:`~bot.services.negotiation.service.NegotiationService` adds the negotiation."""

    def __init__(self, clock: Clock, payments: PaymentDesk | None) -> None:
        self._clock = clock
        self._payments = payments

    # -- handoff, contact status -----------------------------------------------------------

    async def _handoff(self, file: DebtorFile, reason: str) -> Outcome:
        conversations = file.uow.conversations
        await conversations.set_state(file.conversation, "human", reason)
        await file.uow.audit.record(
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
        await suppress_contact(file.uow.session, file.contact, actor="bot", text=command.text,
                               conversation_id=file.conversation.id)
        return Outcome((Reply("opt_out_confirmed", file.common),), offer_pending=False)

    async def _wrong_person(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        file.contact.status = "wrong_person"
        await file.uow.audit.record(
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
        status = await status_answer(file)  # a pending claim, an agreement in force
        if status.complete:
            return Outcome(status.replies)
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
        replies = [*status.replies, Reply("debt_details", {**file.common, "debts": debts,
                                                           "total": file.balance, "today": file.today})]
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
        promise = await file.uow.promises.add(
            debtor_id=file.debtor.id, promised_date=when, balance=file.balance, amount=amount,
            conversation_id=file.conversation.id, at=self._clock.now())
        await file.uow.audit.record(
            AuditKind.PROMISE_TO_PAY, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id,
            data={"date": when.isoformat(), "balance": str(file.balance), "promise_id": promise.id,
                  "amount": str(amount) if amount is not None else None},
        )
        variables = {**file.common, "date": when, "balance": promise.target,
                     "pix_key": file.policy.creditor.pix_key}
        replies = [Reply("promise_recorded", variables)]
        if self._payments is not None:
            charge = await self._payments.for_promise(file.uow.session, file.policy, file.debtor, promise)
            if charge is not None:
                replies.append(instructions_reply(file.common, [charge]))
        return Outcome(tuple(replies))

    async def _already_paid(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        return await record_claim(file, command.text, self._clock)

    async def _payment_method(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        """With an active agreement (or a pending promise): how to pay one installment, the one
        the debtor names ("pix da 2ª parcela") or the next open one (installment_choice.py)."""
        agreements = await file.uow.agreements.agreements_for(file.debtor.id)
        active = [a for a in agreements if a.status == "active"]
        if active:
            installments = active[-1].installments
            number = installment_number(command.text, self._locale(file))
            choice = choose_installment(installments, number, file.common)
            chosen = [choice.chosen] if choice.chosen is not None else []
            replies = await self._instructions(file, chosen, len(installments))
            if replies:
                return Outcome(choice.notices + tuple(replies))
        promises = await file.uow.promises.pending(file.debtor.id)
        if promises and self._payments is not None:
            charge = await self._payments.for_promise(file.uow.session, file.policy, file.debtor,
                                                      promises[-1])
            if charge is not None:
                return Outcome((instructions_reply(file.common, [charge]),))
        variables = {**file.common, "pix_key": file.policy.creditor.pix_key,
                     "agreed": file.state.stage == machine.Stage.AGREED,
                     "offer": offer_variables(file.state.current_offer)
                     if file.state.current_offer else None}
        return Outcome((Reply("payment_method", variables),))

    async def _instructions(self, file: DebtorFile, installments: list[db.Installment],
                            count: int = 1) -> list[Reply]:
        if self._payments is None or not installments:
            return []
        charges = await self._payments.instructions(file.uow.session, file.policy, file.debtor, installments)
        if not charges:
            return []
        await file.uow.audit.record(
            AuditKind.PAYMENT_INSTRUCTIONS_SENT, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id,
            data={"txids": [c["txid"] for c in charges], "method": charges[0]["method"]})
        return [instructions_reply(file.common, charges, count)]

    async def _callback(self, file: DebtorFile, command: cmd.Command) -> Outcome:
        when = parse_date(command.text, file.today, self._locale(file))
        await file.uow.audit.record(
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
