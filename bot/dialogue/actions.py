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

from bot.dialogue.names import ActionName, Slot
from bot.services import commands as cmd
from bot.services.outcome import Outcome


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
        if outcome.paused:
            events.append(ConversationPaused())
        return events


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
    ActionName.PROPOSE_TERMS: lambda t: cmd.EvaluateProposal(_text(t)),
    ActionName.ACCEPT_OFFER: lambda t: cmd.AcceptOffer(_text(t), confidence=_confidence(t)),
    ActionName.REFUSE_OFFER: lambda t: cmd.RefuseOffer(_text(t)),
    ActionName.ACKNOWLEDGE: lambda t: cmd.Acknowledge(_text(t), intent=_intent(t)),
    ActionName.PROMISE_TO_PAY: lambda t: cmd.RecordPromise(_text(t)),
    ActionName.ALREADY_PAID: lambda t: cmd.RecordAlreadyPaid(_text(t)),
    ActionName.FINANCIAL_HARDSHIP: lambda t: cmd.ReportHardship(_text(t)),
    ActionName.HANDOFF: lambda t: cmd.HandOffToAgent(_text(t), intent=_intent(t)),
    ActionName.OPT_OUT: lambda t: cmd.OptOut(_text(t)),
    ActionName.WRONG_PERSON: lambda t: cmd.MarkWrongPerson(_text(t)),
    ActionName.PAYMENT_METHOD: lambda t: cmd.ExplainPaymentMethod(_text(t)),
    ActionName.CALLBACK_LATER: lambda t: cmd.ScheduleCallback(_text(t)),
    ActionName.IDENTITY: lambda t: cmd.DisclaimIdentity(_text(t)),
    ActionName.OUT_OF_SCOPE: lambda t: cmd.DeclineOutOfScope(_text(t)),
    ActionName.FALLBACK: lambda t: cmd.Clarify(_text(t)),
}


def build_actions(handler: CommandHandler) -> list[AcordoAction]:
    """One action per ``ActionName``; built by the composition root, never at import."""
    return [AcordoAction(name, COMMANDS[name], handler) for name in ActionName]
