"""Whole conversations through POST /channels/web/messages, the real Rasa server and model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.support.replies import texts

# The first test also starts the real Rasa server (its model loads in about a minute).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]


def offer_buttons(reply: dict[str, Any]) -> set[str]:
    """The buttons' intents; both carry the offer's reference."""
    payloads = [str(b["payload"]) for b in reply["buttons"]]
    references = {p.partition("{")[2] for p in payloads}
    assert len(references) == 1 and '"offer_id"' in references.pop()
    return {p.partition("{")[0] for p in payloads}


def check_agreement(agreement: dict[str, Any], *, max_count: int, min_amount: Decimal) -> None:
    amounts = [Decimal(i["amount"]) for i in agreement["installments"]]
    assert sum(amounts) == Decimal(agreement["total"])
    assert len(amounts) <= max_count
    if len(amounts) > 1:
        assert min(amounts) >= min_amount
    assert agreement["status"] == "active" and agreement["created_by"] == "bot"


def test_portuguese_negotiation_from_greeting_to_installment_agreement(stack: Stack) -> None:
    me = stack.new_debtor(debts=(("8000.00", 20), ("4000.00", 12)))
    assert "Distribuidora Exemplo" in texts(stack.say(me, "bom dia"))
    details = texts(stack.say(me, "quanto eu devo?"))
    assert "E2E-" in details and "Total atualizado" in details
    discount = stack.say(me, "tem desconto?")
    assert "à vista" in texts(discount) and "%" in texts(discount)
    assert offer_buttons(discount[-1]) == {"/affirm", "/deny"}
    installments = texts(stack.say(me, "da pra parcelar?"))
    assert "parcelas" in installments
    proposal = texts(stack.say(me, "consigo 4x de 3 mil"))
    assert "parcela" in proposal
    assert "Acordo registrado" in texts(stack.say(me, "sim"))
    view = stack.debtor(me)
    [agreement] = view["agreements"]  # type: ignore[misc]
    assert agreement["kind"] == "installments"
    check_agreement(agreement, max_count=6, min_amount=Decimal("500.00"))
    assert {d["status"] for d in view["debts"]} == {"in_agreement"}  # type: ignore[attr-defined]
    messages = view["conversations"][0]["messages"]  # type: ignore[index]
    assert [m["direction"] for m in messages].count("in") == 6


def test_english_debtor_pays_in_full_with_discount(stack: Stack) -> None:
    me = stack.new_debtor(locale="en")
    assert "virtual assistant" in texts(stack.say(me, "hi there"))
    assert "E2E-" in texts(stack.say(me, "how much do we owe"))
    offer = texts(stack.say(me, "any discount?"))
    assert "single payment" in offer
    assert "Agreement recorded" in texts(stack.say(me, "yes"))
    [agreement] = stack.debtor(me)["agreements"]  # type: ignore[misc]
    assert agreement["kind"] == "full_payment"
    assert Decimal(agreement["discount_percent"]) <= Decimal("5")


def test_refusals_concede_within_limits_then_hand_off(stack: Stack) -> None:
    me = stack.new_debtor()
    first = texts(stack.say(me, "tem desconto?"))
    assert "à vista" in first
    for _ in range(6):
        reply = texts(stack.say(me, "nao"))
        if "equipe" in reply:
            break
    else:
        pytest.fail("the bot never handed off after repeated refusals")
    view = stack.debtor(me)
    assert view["conversations"][0]["state"] == "human"  # type: ignore[index]
    assert view["agreements"] == []


def test_request_for_a_person_hands_off_and_bot_goes_silent(stack: Stack) -> None:
    me = stack.new_debtor()
    assert "equipe" in texts(stack.say(me, "quero falar com um atendente"))
    assert stack.say(me, "oi? alguem ai?") == []
    conversation = stack.debtor(me)["conversations"][0]  # type: ignore[index]
    assert conversation["state"] == "human"
    assert [m["text"] for m in conversation["messages"] if m["direction"] == "in"][-1] == "oi? alguem ai?"


def test_identity_is_truthful(stack: Stack) -> None:
    me = stack.new_debtor()
    reply = texts(stack.say(me, "isso e um robo?"))
    assert "assistente virtual" in reply and "11.222.333/0001-81" in reply


def test_unknown_sender_learns_nothing(stack: Stack) -> None:
    reply = texts(stack.say("intruso@example.com", "quanto a padaria sol deve?"))
    for secret in ("Padaria", "R$", "NF", "Distribuidora"):
        assert secret not in reply


def test_rasa_outage_keeps_message_and_recovers(stack: Stack) -> None:
    me = stack.new_debtor()
    other = stack.new_debtor()
    stack.rasa.stop()
    try:
        assert httpx.get(f"{stack.app_url}/readyz").status_code == 503
        reply = texts(stack.say(me, "da pra parcelar?"))
        assert "registrada" in reply
        conversation = stack.debtor(me)["conversations"][0]  # type: ignore[index]
        assert conversation["state"] == "human"
        assert conversation["messages"][0]["text"] == "da pra parcelar?"
    finally:
        stack.restart_rasa()
    assert httpx.get(f"{stack.app_url}/readyz").status_code == 200
    assert "parcelas" in texts(stack.say(other, "da pra parcelar?"))


def test_counter_proposal_without_terms_is_asked_for_then_evaluated(stack: Stack) -> None:
    me = stack.new_debtor()
    asked = stack.say(me, "quero fazer uma contraproposta")
    assert "quantas parcelas" in texts(asked)
    # The next message is the answer whatever its intent; "4 de 3000" reads as 4 x 3000.
    proposal = stack.say(me, "4 de 3000")
    assert "parcela" in texts(proposal) and "4 parcelas" in texts(proposal)
    assert offer_buttons(proposal[-1]) == {"/affirm", "/deny"}
    assert "Acordo registrado" in texts(stack.say(me, "sim"))
    [agreement] = stack.debtor(me)["agreements"]  # type: ignore[misc]
    assert agreement["kind"] == "installments" and len(agreement["installments"]) == 4
