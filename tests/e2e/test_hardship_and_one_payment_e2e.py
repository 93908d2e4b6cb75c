"""The hardship path and one payment at a time through POST /channels/web/messages, the real
Rasa server and model, on the demo policy (its `hardship:` keys: first payment deferred 15
days, plans up to 12, handoff words)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack, today
from tests.support.replies import texts

# The first test of a session also starts the real Rasa server (its model loads in a minute).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]
PIX = re.compile(r"^000201\S.*$", re.MULTILINE)


def pix_codes(replies: list[dict[str, Any]]) -> list[str]:
    return [code for reply in replies for code in PIX.findall(str(reply["text"]))]


def images(replies: list[dict[str, Any]]) -> list[str]:
    return [str(reply["image"]) for reply in replies if reply.get("image")]


def test_hardship_concedes_one_step_at_a_time_then_a_handoff_word_reaches_a_person(stack: Stack) -> None:
    me = stack.new_debtor(debts=(("9000.00", 15),))
    deferred = (today() + timedelta(days=15)).strftime("%d/%m/%Y")
    first = stack.say(me, "a gente tá apertado esse mês, não dá pra pagar tudo")
    assert "Entendo" in texts(first) and "2 parcelas" in texts(first) and deferred in texts(first)
    second = texts(stack.say(me, "ainda nao da, estamos sem caixa"))
    assert "3 parcelas" in second and deferred in second
    handed = texts(stack.say(me, "a empresa entrou em recuperação judicial"))
    assert "pessoa da equipe" in handed
    view = stack.debtor(me)
    assert view["conversations"][0]["state"] == "human"  # type: ignore[index]
    assert view["agreements"] == []


def test_agreement_sends_the_first_installment_only_then_the_second_on_request(stack: Stack) -> None:
    me = stack.new_debtor(debts=(("9000.00", 15),))
    assert "3 parcelas" in texts(stack.say(me, "da pra parcelar em 3x?"))
    agreed = stack.say(me, "sim")
    assert "Acordo registrado" in texts(agreed) and "1ª parcela (de 3)" in texts(agreed)
    [first_code], [first_image] = pix_codes(agreed), images(agreed)
    picture = httpx.get(stack.app_url + first_image, timeout=30)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    second = stack.say(me, "manda o pix da 2ª parcela")
    assert "2ª parcela (de 3)" in texts(second)
    [second_code], [second_image] = pix_codes(second), images(second)
    assert second_code != first_code and second_image != first_image
    again = stack.say(me, "manda o pix")  # no number: the next open one, the first
    assert "1ª parcela (de 3)" in texts(again) and pix_codes(again) == [first_code]


def test_english_debtor_asks_for_the_next_code(stack: Stack) -> None:
    me = stack.new_debtor(locale="en", debts=(("9000.00", 15),))
    assert "3 installments" in texts(stack.say(me, "can we pay in 3 installments?"))
    agreed = stack.say(me, "yes")
    assert "Agreement recorded" in texts(agreed) and "installment 1 (of 3)" in texts(agreed)
    [code] = pix_codes(agreed)
    following = stack.say(me, "send the code for the next one")
    assert "installment 1 (of 3)" in texts(following) and pix_codes(following) == [code]
