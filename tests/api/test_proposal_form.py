"""proposal_form's custom actions through the action webhook, as Rasa calls them.

The Rasa side (rules, slot mapping) is covered by dialogs/tests/test_stories.yml and
tests/e2e; here the trackers are written by hand.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ScriptedDialogue
from tests.support.portfolio import load

FORM_STARTED = {"event": "active_loop", "name": "proposal_form"}


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "propose_terms"}}}


async def conversation_id(client: httpx.AsyncClient, admin: dict[str, str],
                          scripted: ScriptedDialogue) -> str:
    await load(client, admin)
    response = await client.post("/channels/web/messages",
                                 json={"sender": "rita@acme.com.br", "text": "oi"}, headers=admin)
    assert response.status_code == 200
    return scripted.calls[-1][0]


async def run(client: httpx.AsyncClient, sender: str, action: str, *, text: str = "",
              slots: dict[str, Any] | None = None,
              events: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    tracker = {"sender_id": sender, "slots": slots or {}, "events": events or [],
               "latest_message": {"text": text, "intent": {"name": "propose_terms",
                                                           "confidence": 0.9}}}
    call = {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": {}}
    response = await client.post("/actions/webhook", json=call)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def slot_events(result: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in result["events"] if e["event"] == "slot"}


def templates(result: dict[str, Any]) -> list[str]:
    return [r["custom"]["template"] for r in result["responses"]]


async def test_proposal_without_terms_sets_terms_missing_and_says_nothing(
        client: httpx.AsyncClient, admin: dict[str, str], scripted: ScriptedDialogue) -> None:
    me = await conversation_id(client, admin, scripted)
    result = await run(client, me, "action_propose_terms", text="quero fazer uma contraproposta")
    assert templates(result) == []
    assert slot_events(result) == {"terms_missing": True, "proposal_text": None}


@pytest.mark.parametrize(("requested", "template"), [
    (None, "proposal_not_understood"), ("proposal_text", "ask_proposal_terms"),
])
async def test_form_asks_first_then_asks_again_differently(
        client: httpx.AsyncClient, admin: dict[str, str], scripted: ScriptedDialogue,
        requested: str | None, template: str) -> None:
    me = await conversation_id(client, admin, scripted)
    result = await run(client, me, "action_ask_proposal_text",
                       slots={"requested_slot": requested})
    assert templates(result) == [template]


async def test_validation_without_an_answer_does_nothing(
        client: httpx.AsyncClient, admin: dict[str, str], scripted: ScriptedDialogue) -> None:
    me = await conversation_id(client, admin, scripted)
    result = await run(client, me, "validate_proposal_form", slots={"proposal_text": None})
    assert result["events"] == [] and result["responses"] == []


async def test_answer_with_terms_is_kept_then_evaluated_from_the_slot(
        client: httpx.AsyncClient, admin: dict[str, str], scripted: ScriptedDialogue) -> None:
    me = await conversation_id(client, admin, scripted)
    checked = await run(client, me, "validate_proposal_form", text="4 de 300",
                        slots={"proposal_text": "4 de 300"},
                        events=[FORM_STARTED, user("4 de 300")])
    assert slot_events(checked) == {"proposal_text": "4 de 300"}
    assert checked["responses"] == []
    # After the form the latest message may be anything: the slot is what gets evaluated.
    result = await run(client, me, "action_propose_terms", text="4 de 300",
                       slots={"proposal_text": "4 de 300"})
    assert templates(result)[0] in ("offer_installments", "counter_offer")
    offer = result["responses"][0]["custom"]["vars"]["offer"]
    assert offer["kind"] == "installments"
    assert slot_events(result) == {"offer_pending": True, "terms_missing": False,
                                   "proposal_text": None}


async def test_answer_without_terms_is_asked_again_then_handed_off(
        client: httpx.AsyncClient, admin: dict[str, str], scripted: ScriptedDialogue) -> None:
    me = await conversation_id(client, admin, scripted)
    first = await run(client, me, "validate_proposal_form", text="deixa eu ver",
                      slots={"proposal_text": "deixa eu ver"},
                      events=[FORM_STARTED, user("deixa eu ver")])
    assert slot_events(first) == {"proposal_text": None} and first["responses"] == []
    second = await run(client, me, "validate_proposal_form", text="sei la",
                       slots={"proposal_text": "sei la"},
                       events=[FORM_STARTED, user("deixa eu ver"), user("sei la")])
    assert templates(second) == ["handoff"]
    assert second["responses"][0]["custom"]["vars"]["reason"] == "proposal_not_understood"
    assert [e["event"] for e in second["events"]][-2:] == ["pause", "slot"]
    assert slot_events(second) == {"offer_pending": False, "proposal_text": None,
                                   "terms_missing": False, "requested_slot": None}
    view = (await client.get("/api/v1/debtors/acme", headers=admin)).json()
    assert view["conversations"][0]["state"] == "human"
