"""Which installment a message names; what a hardship statement is about; handoff words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.understanding.hardship import HARDSHIP_CATEGORIES, hardship_category, mentions_any
from bot.understanding.ordinals import MAX_INSTALLMENT_NUMBER, asks_for_payment_details, installment_number


@pytest.mark.parametrize(("text", "locale", "expected"), [
    ("manda o pix da 2ª parcela", "pt-BR", 2),
    ("manda o pix da 2a parcela", "pt-BR", 2),
    ("me manda a 2a", "pt-BR", 2),
    ("segunda parcela pfv", "pt-BR", 2),
    ("TERCEIRA PARCELA", "pt-BR", 3),
    ("pix da 1º parcela", "pt-BR", 1),
    ("parcela 3", "pt-BR", 3),
    ("manda o boleto nº 4", "pt-BR", 4),
    ("send the code for the 2nd one", "en", 2),
    ("the second installment please", "en", 2),
    ("installment #3", "en", 3),
    # No number: the next open installment.
    ("manda o pix", "pt-BR", None),
    ("manda o pix da próxima", "pt-BR", None),
    ("send the code for the next one", "en", None),
    # Amounts and counts are not installment numbers; Monday is not the second one.
    ("parcela de 500", "pt-BR", None),
    ("3 parcelas de 500", "pt-BR", None),
    ("posso pagar na segunda", "pt-BR", None),
    ("parcela 2000", "pt-BR", None),
])
def test_installment_number(text: str, locale: str, expected: int | None) -> None:
    assert installment_number(text, locale) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_installment_number_is_none_or_in_range(text: str) -> None:
    number = installment_number(text)
    assert number is None or 1 <= number <= MAX_INSTALLMENT_NUMBER


@pytest.mark.parametrize(("text", "category"), [
    ("a gente tá apertado esse mês, não dá pra pagar tudo", "cash_flow"),
    ("estamos sem caixa", "cash_flow"),
    ("cash flow is tight this month", "cash_flow"),
    ("a empresa está em Recuperação Judicial", "judicial_recovery"),
    ("we filed for judicial recovery", "judicial_recovery"),
    ("decretaram a FALÊNCIA da empresa", "bankruptcy"),
    ("the company is bankrupt", "bankruptcy"),
    ("meu sócio faleceu", "other"),
])
def test_hardship_category(text: str, category: str) -> None:
    assert hardship_category(text) == category


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_hardship_category_is_always_known(text: str) -> None:
    assert hardship_category(text) in HARDSHIP_CATEGORIES


def test_handoff_words_ignore_accents_and_case_and_match_whole_words() -> None:
    words = ("recuperação judicial", "falência", "advogado", "lawyer")
    assert mentions_any("empresa em RECUPERACAO JUDICIAL", words) == "recuperação judicial"
    assert mentions_any("vou falar com meu Advogado", words) == "advogado"
    assert mentions_any("talk to our lawyers", words) is None  # whole words only
    assert mentions_any("a gente tá apertado", words) is None
    assert mentions_any("falencia", ()) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("manda o pix da 2ª parcela", True), ("me manda o boleto", True),
    ("send the code for the next one", True),
    ("qual a chave PIX?", True), ("da pra parcelar em 3x?", False), ("segunda parcela", False),
    ("sim", False), ("pixel", False),
])
def test_asks_for_payment_details(text: str, expected: bool) -> None:
    assert asks_for_payment_details(text) is expected
