"""Hard cases through POST /channels/web/messages, the real Rasa server and the trained model:
two requests in one message both get an answer (and the offer made is the one a "yes"
accepts); the commonest first reply to a reminder gets the debt details."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack
from tests.support.replies import texts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]


def test_portuguese_debt_details_and_installments_in_one_message(stack: Stack) -> None:
    me = stack.new_debtor(debts=(("8000.00", 20), ("4000.00", 12)))
    replies = stack.say(me, "bom dia, quanto eu devo e dá pra parcelar?")
    answer = texts(replies)
    assert "E2E-" in answer and "Total atualizado" in answer  # what is owed
    assert "parcelas" in answer  # and the installment plan asked for
    assert {str(b["payload"]).partition("{")[0]
            for b in replies[-1]["buttons"]} == {"/affirm", "/deny"}  # type: ignore[attr-defined]
    assert "Acordo registrado" in texts(stack.say(me, "sim"))
    [agreement] = stack.debtor(me)["agreements"]  # type: ignore[misc]
    assert agreement["kind"] == "installments"


def test_what_is_this_charge_gets_the_debt_details(stack: Stack) -> None:
    me = stack.new_debtor()
    answer = texts(stack.say(me, "recebi uma mensagem de vcs, q cobrança é essa?"))
    assert "E2E-" in answer and "Total atualizado" in answer


def test_english_balance_and_payment_method_in_one_message(stack: Stack) -> None:
    me = stack.new_debtor(locale="en")
    answer = texts(stack.say(me, "hello, what's our balance and how can we pay it?"))
    assert "Updated total" in answer  # what is owed
    assert "PIX" in answer or "pix" in answer  # and how to pay
