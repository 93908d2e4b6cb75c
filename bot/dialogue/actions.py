"""Rasa custom actions: thin shims that turn the tracker into a typed command.

Each action names itself after ``ActionName`` and builds one command; the
service layer decides what happens and returns template keys (never text),
which the app renders for the debtor's locale when Rasa answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from bot.conversation import commands as cmd
from bot.conversation.outcome import Outcome
from bot.dialogue.names import ActionName, Form, Slot


class CommandHandler(Protocol):
    async def execute(self, conversation_id: str, command: cmd.Command) -> Outcome: ...


class AcordoAction(Action):  # type: ignore[misc]
    """Runs one command for the tracker's conversation and relays the outcome to Rasa."""

    def __init__(self, action: ActionName, build: Callable[[Tracker], cmd.Command],
                 handler: CommandHandler) -> None:
        self._action = action
        self._build = build
        self._handler = handler

    def name(self) -> str:
        return self._action.value

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        outcome = await self._handler.execute(tracker.sender_id, self._build(tracker))
        for reply in outcome.replies:
            dispatcher.utter_message(json_message=reply.as_payload())
        events: list[EventType] = []
        if outcome.offer_pending is not None:
            events.append(SlotSet(Slot.OFFER_PENDING.value, outcome.offer_pending))
        events += [SlotSet(name, value) for name, value in outcome.slots.items()]
        if outcome.paused:
            events.append(ConversationPaused())
        return events


class ProposalFormValidation(AcordoAction):
    """``validate_proposal_form``: keeps the answer, has the form ask again, or ends it.

    Rasa also calls it when the form starts, before any answer: nothing to check then.
    When the service hands off (too many answers without terms) the form ends too.
    """

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if tracker.get_slot(Slot.PROPOSAL_TEXT.value) is None:
            return []
        events = await super().run(dispatcher, tracker, domain)
        if any(event.get("event") == "pause" for event in events):
            events.append(SlotSet(REQUESTED_SLOT, None))
        return events


def _answers_to_form(tracker: Tracker) -> int:
    """Debtor messages since proposal_form started (1 while checking the first answer)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") == Form.PROPOSAL.value:
            break
        count += event.get("event") == "user"
    return count


def _slot_text(tracker: Tracker, slot: Slot) -> str | None:
    value = tracker.get_slot(slot.value)
    return None if value is None else str(value)


def _text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def _confidence(tracker: Tracker) -> float:
    return float((tracker.latest_message.get("intent") or {}).get("confidence") or 0.0)


def _intent(tracker: Tracker) -> str:
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


# The whole mapping from Rasa action to service command, in one table.
COMMANDS: dict[ActionName, Callable[[Tracker], cmd.Command]] = {
    ActionName.GREET: lambda t: cmd.Greet(_text(t)),
    ActionName.GOODBYE: lambda t: cmd.SayGoodbye(_text(t)),
    ActionName.DEBT_DETAILS: lambda t: cmd.ShowDebtDetails(_text(t)),
    ActionName.PAY_IN_FULL: lambda t: cmd.OfferFullPayment(_text(t)),
    ActionName.REQUEST_DISCOUNT: lambda t: cmd.OfferDiscount(_text(t)),
    ActionName.REQUEST_INSTALLMENTS: lambda t: cmd.OfferInstallments(_text(t)),
    # After proposal_form the collected answer is evaluated, not the latest message.
    ActionName.PROPOSE_TERMS: lambda t: cmd.EvaluateProposal(
        _text(t), answer=_slot_text(t, Slot.PROPOSAL_TEXT)),
    ActionName.ACCEPT_OFFER: lambda t: cmd.AcceptOffer(
        _text(t), confidence=_confidence(t), intent=_intent(t)),
    ActionName.REFUSE_OFFER: lambda t: cmd.RefuseOffer(_text(t)),
    ActionName.ACKNOWLEDGE: lambda t: cmd.Acknowledge(_text(t), intent=_intent(t)),
    ActionName.PROMISE_TO_PAY: lambda t: cmd.RecordPromise(_text(t)),
    ActionName.ALREADY_PAID: lambda t: cmd.RecordAlreadyPaid(_text(t)),
    ActionName.FINANCIAL_HARDSHIP: lambda t: cmd.ReportHardship(_text(t)),
    ActionName.HANDOFF: lambda t: cmd.HandOffToAgent(_text(t), intent=_intent(t)),
    ActionName.OPT_OUT: lambda t: cmd.OptOut(_text(t), intent=_intent(t),
                                             confidence=_confidence(t)),
    ActionName.WRONG_PERSON: lambda t: cmd.MarkWrongPerson(_text(t)),
    ActionName.PAYMENT_METHOD: lambda t: cmd.ExplainPaymentMethod(_text(t)),
    ActionName.CALLBACK_LATER: lambda t: cmd.ScheduleCallback(_text(t)),
    ActionName.IDENTITY: lambda t: cmd.DisclaimIdentity(_text(t)),
    ActionName.OUT_OF_SCOPE: lambda t: cmd.DeclineOutOfScope(_text(t)),
    ActionName.FALLBACK: lambda t: cmd.Clarify(_text(t)),
    ActionName.ASK_PROPOSAL_TEXT: lambda t: cmd.AskProposalTerms(
        _text(t), retry=t.get_slot(REQUESTED_SLOT) == Slot.PROPOSAL_TEXT.value),
    ActionName.VALIDATE_PROPOSAL_FORM: lambda t: cmd.ValidateProposalText(
        _slot_text(t, Slot.PROPOSAL_TEXT) or "", attempt=_answers_to_form(t)),
}


def build_actions(handler: CommandHandler) -> list[AcordoAction]:
    """One action per ``ActionName``; built by the composition root, never at import."""
    return [
        (ProposalFormValidation if name == ActionName.VALIDATE_PROPOSAL_FORM else AcordoAction)(
            name, COMMANDS[name], handler)
        for name in ActionName
    ]
