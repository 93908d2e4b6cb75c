"""The second request in one message (bot/understanding/requests.py), table-driven, and on the
two-request messages of the hard-case held-out set."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.understanding.requests import Request, answer_order, requests_in, second_request

HELDOUT = Path(__file__).resolve().parents[2] / "dialogs" / "tests" / "heldout"


def two_request_messages() -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted(HELDOUT.glob("hard_two_*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            rows += [(item["text"], block["intent"], item["metadata"]["second"])
                     for item in block["examples"]]
    return rows


def test_the_held_out_set_has_two_request_messages() -> None:
    assert len(two_request_messages()) >= 20


@pytest.mark.parametrize(("text", "intent", "second"), two_request_messages())
def test_held_out_two_requests_found_whichever_the_nlu_picks(text: str, intent: str,
                                                             second: str) -> None:
    assert second_request(text, intent) == second
    assert second_request(text, second) == intent


@pytest.mark.parametrize(("text", "intent", "expected"), [
    ("boa noite! qto eu devo? consigo parcelar em 4x?", "ask_debt_details",
     Request.INSTALLMENTS),
    ("e ai, me diz o valor atualizado e se rola um desconto", "request_discount",
     Request.DEBT_DETAILS),
    ("qual o saldo? e a chave do pix pra pagar", "ask_debt_details", Request.PAYMENT_METHOD),
    ("pago tudo a vista se me mandar o boleto hj", "pay_in_full", Request.PAYMENT_METHOD),
    ("how much is owed? can we do it in 3 installments", "ask_debt_details",
     Request.INSTALLMENTS),
    ("is there a discount? and how do we pay", "request_discount", Request.PAYMENT_METHOD),
    ("nao, mas da pra parcelar? quanto devo", "request_installments", Request.DEBT_DETAILS),
])
def test_second_requests(text: str, intent: str, expected: Request) -> None:
    assert second_request(text, intent) == expected


@pytest.mark.parametrize(("text", "intent"), [
    ("quanto eu devo?", "ask_debt_details"),
    ("da pra parcelar em 6x?", "request_installments"),
    ("manda o pix da 2ª parcela", "ask_payment_method"),
    ("qual o valor da 3ª parcela?", "ask_debt_details"),
    ("quanto devo? nao quero parcelar", "ask_debt_details"),  # refused, not asked
    ("qual o total? sem desconto mesmo", "ask_debt_details"),
    ("what's the balance? we don't want installments", "ask_debt_details"),
    ("tem como pagar parcelado?", "request_installments"),
    ("quero quitar o saldo devedor", "pay_in_full"),
    # A message makes one offer: a discount and a full payment are one negotiation step.
    ("tem desconto pra pagar a vista?", "request_discount"),
    ("tem desconto pra pagar a vista?", "pay_in_full"),
    # Only the combining requests: a promise or a claim is answered alone.
    ("pago dia 10, quanto devo mesmo?", "promise_to_pay"),
    ("ja paguei, quanto era?", "already_paid"),
    ("quanto eu devo e da pra parcelar?", "greet"),
    ("", "ask_debt_details"),
])
def test_no_second_request(text: str, intent: str) -> None:
    assert second_request(text, intent) is None


def test_requests_in_answer_order() -> None:
    assert requests_in("me manda o pix e diz quanto devo") == (Request.DEBT_DETAILS,
                                                              Request.PAYMENT_METHOD)
    assert answer_order([Request.PAYMENT_METHOD, Request.INSTALLMENTS, Request.DEBT_DETAILS]) == [
        Request.DEBT_DETAILS, Request.INSTALLMENTS, Request.PAYMENT_METHOD]


@pytest.mark.parametrize("text", ["\u0301" * 5, "👍", "?" * 400, "x" * 2000, "\x00 quanto"])
def test_never_raises(text: str) -> None:
    assert second_request(text, "ask_debt_details") in (None, *Request)
