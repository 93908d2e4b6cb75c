"""A stand-in for the Rasa server: given NLU results, the real custom actions, the real app.

``RuleDialogue`` is a ``DialogueEngine``. For each message it takes the NLU result the test
chose (intent and confidence; a ``/intent{...}`` button payload is parsed like Rasa's
RegexMessageHandler does, at confidence 1.0), picks the action the rules in
``dialogs/data/rules/`` pick (``offer_pending`` decides between accept/refuse and
acknowledge; below the FallbackClassifier threshold the fallback runs) and runs it through
the app's own action executor, the code Rasa calls over ``/actions/webhook``. Slot events
and a pause are kept per conversation, as Rasa's tracker would.

So a message goes the whole way the app takes it (web channel, storage, opt-out keywords,
actions, the negotiation service, rendering) with only the NLU chosen by the test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk.executor import ActionExecutor

from bot.conversation.outcome import Reply
from bot.dialogue.names import ActionName, Intent

FALLBACK_THRESHOLD = 0.4  # dialogs/config.yml, FallbackClassifier
_BUTTON = re.compile(r"^/(?P<intent>[^{@]+)(?P<confidence>@[0-9.]+)?(?P<entities>\{.+\})?", re.DOTALL)

ROUTES: dict[str, ActionName] = {
    Intent.GREET: ActionName.GREET,
    Intent.GOODBYE: ActionName.GOODBYE,
    Intent.ASK_DEBT_DETAILS: ActionName.DEBT_DETAILS,
    Intent.PAY_IN_FULL: ActionName.PAY_IN_FULL,
    Intent.REQUEST_INSTALLMENTS: ActionName.REQUEST_INSTALLMENTS,
    Intent.REQUEST_DISCOUNT: ActionName.REQUEST_DISCOUNT,
    Intent.PROPOSE_TERMS: ActionName.PROPOSE_TERMS,
    Intent.PROMISE_TO_PAY: ActionName.PROMISE_TO_PAY,
    Intent.ALREADY_PAID: ActionName.ALREADY_PAID,
    Intent.DISPUTE_DEBT: ActionName.HANDOFF,
    Intent.FINANCIAL_HARDSHIP: ActionName.FINANCIAL_HARDSHIP,
    Intent.REQUEST_HUMAN: ActionName.HANDOFF,
    Intent.OPT_OUT: ActionName.OPT_OUT,
    Intent.WRONG_PERSON: ActionName.WRONG_PERSON,
    Intent.ASK_PAYMENT_METHOD: ActionName.PAYMENT_METHOD,
    Intent.REQUEST_CALLBACK_LATER: ActionName.CALLBACK_LATER,
    Intent.COMPLAIN: ActionName.HANDOFF,
    Intent.ASK_IDENTITY: ActionName.IDENTITY,
    Intent.OUT_OF_SCOPE: ActionName.OUT_OF_SCOPE,
}


@dataclass(frozen=True)
class Nlu:
    intent: str
    confidence: float = 1.0


@dataclass
class Tracker:
    slots: dict[str, Any] = field(default_factory=lambda: {"offer_pending": False})
    paused: bool = False


class RuleDialogue:
    def __init__(self) -> None:
        self.executor: ActionExecutor | None = None  # set once the app has started
        self.next_nlu: Nlu = Nlu(Intent.OUT_OF_SCOPE)
        self.trackers: dict[str, Tracker] = {}
        self.actions: list[str] = []

    def parse(self, text: str) -> Nlu:
        match = _BUTTON.match(text.strip())
        if match is not None and match.group("intent") in set(Intent):
            return Nlu(match.group("intent"), 1.0)
        return self.next_nlu

    def route(self, nlu: Nlu, tracker: Tracker) -> ActionName:
        if nlu.confidence < FALLBACK_THRESHOLD or nlu.intent == "nlu_fallback":
            return ActionName.FALLBACK
        pending = bool(tracker.slots.get("offer_pending"))
        if nlu.intent == Intent.AFFIRM:
            return ActionName.ACCEPT_OFFER if pending else ActionName.ACKNOWLEDGE
        if nlu.intent == Intent.DENY:
            return ActionName.REFUSE_OFFER if pending else ActionName.ACKNOWLEDGE
        return ROUTES[nlu.intent]

    async def respond(self, conversation_id: str, text: str,
                      metadata: dict[str, Any] | None = None) -> list[Reply]:
        assert self.executor is not None, "set RuleDialogue.executor after the app started"
        tracker = self.trackers.setdefault(conversation_id, Tracker())
        if tracker.paused:
            return []
        nlu = self.parse(text)
        action = self.route(nlu, tracker)
        self.actions.append(action.value)
        call = {"next_action": action.value, "sender_id": conversation_id, "domain": {},
                "tracker": {"sender_id": conversation_id, "slots": dict(tracker.slots),
                            "events": [], "latest_message": {
                                "text": text,
                                "intent": {"name": nlu.intent, "confidence": nlu.confidence}}}}
        result = await self.executor.run(call)
        if result is None:
            return []
        body = result.model_dump(by_alias=True)
        for event in body["events"]:
            if event.get("event") == "slot":
                tracker.slots[event["name"]] = event["value"]
            elif event.get("event") == "pause":
                tracker.paused = True
        return [Reply.from_payload(r["custom"]) for r in body["responses"] if r.get("custom")]

    async def is_ready(self) -> bool:
        return True
