"""A message with two requests gets both answers, whichever of the two the NLU names, through
the web channel and the actions (the dialogue stood in: tests/support/rasa_stand_in.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.chat import Chat, open_chat

TWO_REQUESTS = "bom dia, quanto eu devo e dá pra parcelar?"


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    async for value in open_chat(tmp_path):
        yield value


def intents_of_buttons(reply: dict[str, object]) -> set[str]:
    return {str(b["payload"]).partition("{")[0] for b in reply["buttons"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("intent", ["ask_debt_details", "request_installments"])
async def test_debt_details_then_the_installment_offer(chat: Chat, intent: str) -> None:
    details, offer = await chat.say(TWO_REQUESTS, intent)
    assert "Total atualizado" in details["text"]
    assert "parcelas" in offer["text"] and "Total atualizado" not in offer["text"]
    assert intents_of_buttons(offer) == {"/affirm", "/deny"}
    # The offer is the pending one: a clear yes records it.
    [created, *_] = await chat.say("sim", "affirm", 1.0)
    assert "Acordo registrado" in created["text"]
    assert (await chat.counts())[0] == 1


async def test_one_request_gets_one_answer(chat: Chat) -> None:
    [details] = await chat.say("quanto eu devo?", "ask_debt_details")
    assert "Total atualizado" in details["text"]
    [offer] = await chat.say("da pra parcelar?", "request_installments")
    assert "parcelas" in offer["text"]


async def test_a_new_offer_drops_the_recall_of_the_previous_one(chat: Chat) -> None:
    await chat.say("tem desconto?", "request_discount")
    replies = await chat.say("qual o total? e da pra parcelar em 3x?", "ask_debt_details")
    assert len(replies) == 2
    assert "Total atualizado" in replies[0]["text"] and "3 parcelas" in replies[1]["text"]


async def test_after_an_agreement_no_second_offer(chat: Chat) -> None:
    await chat.say("tem desconto?", "request_discount")
    await chat.say("sim", "affirm", 1.0)
    # Only the status: no "there is already an agreement" answer to the second request.
    [status] = await chat.say("quanto eu devo e da pra parcelar?", "ask_debt_details")
    assert not status["buttons"]
    assert (await chat.counts())[0] == 1
