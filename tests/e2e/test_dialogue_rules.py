"""Dialogue rules (wrong person, opt-out, digressions, clarification, handoff) through the
real Rasa server and model."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.support.replies import texts

# The first test also starts the real Rasa server (its model loads in about a minute).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]


def audit_kinds(stack: Stack, address: str) -> list[str]:
    # The audit trail is not in the debtor view yet; the stored messages' templates tell.
    view = stack.debtor(address)
    return [m["template"] for c in view["conversations"] for m in c["messages"]  # type: ignore[attr-defined]
            if m["direction"] == "out"]


def test_wrong_person_stops_all_disclosure(stack: Stack) -> None:
    me = stack.new_debtor()
    assert "Não enviaremos mais mensagens" in texts(stack.say(me, "numero errado, nao trabalho mais ai"))
    after = texts(stack.say(me, "quanto a empresa deve?"))
    assert "R$" not in after and "E2E-" not in after
    assert audit_kinds(stack, me)[-1] == "wrong_person_closed"


def test_opt_out_confirms_once_and_is_recorded(stack: Stack) -> None:
    me = stack.new_debtor()
    reply = texts(stack.say(me, "pare de me mandar mensagem"))
    assert "não enviaremos mais mensagens automáticas" in reply
    view = stack.debtor(me)
    assert view["conversations"][0]["state"] == "opted_out"  # type: ignore[index]


def test_already_paid_asks_for_the_proof(stack: Stack) -> None:
    me = stack.new_debtor()
    assert "comprovante" in texts(stack.say(me, "ja paguei essa nota semana passada"))


def test_digression_returns_to_the_pending_offer(stack: Stack) -> None:
    me = stack.new_debtor()
    assert "à vista" in texts(stack.say(me, "tem desconto?"))
    details = stack.say(me, "quanto eu devo mesmo?")
    assert "Total atualizado" in texts(details) and "Voltando à proposta" in texts(details)
    assert "Acordo registrado" in texts(stack.say(me, "sim"))


def test_gibberish_is_out_of_scope_never_a_yes(stack: Stack) -> None:
    me = stack.new_debtor()
    assert "à vista" in texts(stack.say(me, "tem desconto?"))
    reply = texts(stack.say(me, "qwrtp zxcvb lkjhg"))
    assert "Acordo registrado" not in reply
    assert stack.debtor(me)["agreements"] == []


def test_two_low_confidence_turns_clarify_then_hand_off(stack: Stack) -> None:
    # "/nlu_fallback" is what Rasa's FallbackClassifier yields for a low-confidence message;
    # sending it as a payload makes the two turns deterministic.
    me = stack.new_debtor()
    first = texts(stack.say(me, "/nlu_fallback"))
    second = texts(stack.say(me, "/nlu_fallback"))
    assert "não entendi" in first
    assert "equipe" in second
    assert stack.debtor(me)["conversations"][0]["state"] == "human"  # type: ignore[index]


def test_proposal_terms_are_confirmed_before_any_agreement(stack: Stack) -> None:
    me = stack.new_debtor(debts=(("6000.00", 5),))
    reply = texts(stack.say(me, "consigo 4x de 1600"))
    assert "Posso registrar" in reply or "registrar assim" in reply
    assert stack.debtor(me)["agreements"] == []


def test_identity_in_english(stack: Stack) -> None:
    me = stack.new_debtor(locale="en")
    assert "automated" in texts(stack.say(me, "is this a bot?"))
    assert httpx.get(f"{stack.app_url}/readyz").status_code == 200
