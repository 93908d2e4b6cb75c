"""Payment claims through the real Rasa server and model and the web channel: "already paid"
then the receipt's details — recorded on the claim, never a proposal; the status answer."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Stack
from tests.support.replies import texts

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]


def claims(stack: Stack, address: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = stack.debtor(address)["claims"]  # type: ignore[assignment]
    return found


def test_already_paid_then_the_details_go_to_the_claim(stack: Stack) -> None:
    me = stack.new_debtor()
    first = texts(stack.say(me, "já pagamos essa nota semana passada"))
    assert "conferir" in first and "comprovante" in first
    details = texts(stack.say(me, "o comprovante é o TED 88213 do dia 2, valor 3.100,00"))
    assert "Posso registrar" not in details and "Anotei" in details and "TED 88213" in details
    [claim] = claims(stack, me)
    assert (claim["status"], claim["reference"], claim["amount"]) == ("pending", "TED 88213", "3100.00")
    assert stack.debtor(me)["agreements"] == []
    status = texts(stack.say(me, "quanto devo?"))
    assert "em conferência" in status and "Não há valores em aberto" not in status


def test_the_english_receipt_does_not_loop(stack: Stack) -> None:
    me = stack.new_debtor(locale="en")
    first = texts(stack.say(me, "we already paid that invoice"))
    assert "receipt" in first
    second = texts(stack.say(me, "ok here is the receipt: TED 12345 on Dec 1"))
    assert "could you send" not in second.lower() and "TED 12345" in second
    [claim] = claims(stack, me)
    assert claim["reference"] == "TED 12345"
