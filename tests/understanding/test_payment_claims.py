"""Reading a payment claim: amount, date (in the past), reference, bank; and which messages
speak of a payment made (so that they are never read as a proposal)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.understanding.payment_claims import (
    PaymentClaimText,
    carries_payment_details,
    parse_payment_claim,
)

TODAY = date(2026, 12, 7)  # a Monday


@pytest.mark.parametrize(("text", "locale", "expected"), [
    ("o comprovante é o TED 88213 do dia 2, valor 3.100,00", "pt-BR",
     PaymentClaimText(Decimal("3100.00"), date(2026, 12, 2), "TED 88213", None, True)),
    ("ok here is the receipt: TED 12345 on Dec 1", "en",
     PaymentClaimText(None, date(2026, 12, 1), "TED 12345", None, True)),
    ("paguei ontem pelo itau R$ 1.500,00", "pt-BR",
     PaymentClaimText(Decimal("1500.00"), date(2026, 12, 6), None, "Itaú", False)),
    ("pix E18236120202612021530s0123456789 no nubank", "pt-BR",
     PaymentClaimText(None, None, "E18236120202612021530S0123456789", "Nubank", False)),
    ("transferi sexta 2500 reais pelo banco do brasil", "pt-BR",
     PaymentClaimText(Decimal("2500"), date(2026, 12, 4), None, "Banco do Brasil", False)),
    ("comprovante nº 4471-22, pago dia 15/11 na caixa", "pt-BR",
     PaymentClaimText(None, date(2026, 11, 15), "comprovante 4471-22", "Caixa", True)),
    ("paid on 11/30, transaction id 99821-33, $ 500", "en",
     PaymentClaimText(Decimal("500"), date(2026, 11, 30), "ID 99821-33", None, False)),
    ("fiz o pix de 3100 hoje", "pt-BR", PaymentClaimText(Decimal("3100"), TODAY, None, None, False)),
    ("já pagamos essa nota semana passada", "pt-BR", PaymentClaimText()),
    ("pagamos dia 20 pelo sicredi", "pt-BR",  # the 20th is still to come: last month's
     PaymentClaimText(None, date(2026, 11, 20), None, "Sicredi", False)),
    ("paguei 1000 e depois mais 500", "pt-BR",  # two amounts, no cue: none guessed
     PaymentClaimText(None, None, None, None, False)),
    ("vou pagar amanhã", "pt-BR", PaymentClaimText()),  # the future is no payment date
])
def test_claims_are_read(text: str, locale: str, expected: PaymentClaimText) -> None:
    assert parse_payment_claim(text, TODAY, locale) == expected


@pytest.mark.parametrize("text", [
    "o comprovante é o TED 88213 do dia 2, valor 3.100,00", "ok here is the receipt: TED 12345",
    "ja paguei", "fizemos o pix ontem", "segue o comprovante", "foi pelo bradesco",
    "we paid it on 11/30", "TED do dia 2", "o boleto 2345678 foi pago",
])
def test_messages_about_a_payment_made(text: str) -> None:
    assert carries_payment_details(text, TODAY)


@pytest.mark.parametrize("text", [
    "posso pagar 3 mil dia 10", "eu pago dia 10", "quero parcelar em 3x", "da pra fazer 2x de 500?",
    "posso pagar no pix sexta", "aceito", "quanto devo?", "can I pay 500 next week?",
])
def test_proposals_and_questions_are_not_payment_details(text: str) -> None:
    assert not carries_payment_details(text, TODAY)


money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999.99"), places=2)
days_back = st.integers(min_value=0, max_value=300)
codes = st.integers(min_value=100, max_value=99_999_999)


@settings(max_examples=150, deadline=None)
@given(money, days_back, codes, st.sampled_from(["pt-BR", "en"]))
def test_a_written_claim_reads_back(amount: Decimal, back: int, code: int, locale: str) -> None:
    paid = TODAY - timedelta(days=back)
    babel = "pt_BR" if locale == "pt-BR" else "en"
    numeric = paid.strftime("%d/%m/%Y" if locale == "pt-BR" else "%m/%d/%Y")
    text = (f"TED {code}, valor {format_currency(amount, 'BRL', locale=babel)}, em {numeric}"
            if locale == "pt-BR" else
            f"TED {code}, amount {format_currency(amount, 'BRL', locale=babel)}, on {numeric}")
    claim = parse_payment_claim(text, TODAY, locale)
    assert (claim.reference, claim.amount, claim.paid_on) == (f"TED {code}", amount, paid)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_read_without_error_and_never_a_future_date(text: str) -> None:
    claim = parse_payment_claim(text, TODAY)
    assert claim.paid_on is None or claim.paid_on <= TODAY
    assert claim.amount is None or claim.amount > 0
    assert claim.reference is None or len(claim.reference) <= 128
    carries_payment_details(text, TODAY)
