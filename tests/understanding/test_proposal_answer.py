"""parse_proposal_answer: the reply to "how many installments, and how much each?"."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.negotiation.proposals import Proposal
from bot.understanding.values import parse_proposal, parse_proposal_answer

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(("text", "locale", "count", "amount"), [
    ("4 de 3000", "pt-BR", 4, "3000"),
    ("são 4 de 3 mil", "pt-BR", 4, "3000"),
    ("4 de R$ 3.000,00", "pt-BR", 4, "3000.00"),
    ("10 de 500 comecando dia 15", "pt-BR", 10, "500"),
    ("4 of 3,000", "en", 4, "3000"),
])
def test_a_bare_pair_is_count_and_installment_amount(text: str, locale: str, count: int,
                                                     amount: str) -> None:
    proposal = parse_proposal_answer(text, TODAY, locale)
    assert proposal.installments == count
    assert proposal.installment_amount == Decimal(amount)
    assert proposal.total is None


@pytest.mark.parametrize("text", [
    "consigo 6x de 2 mil", "posso pagar 2 mil", "pago 50% agora e o resto em 30 dias",
    "dia 4 de 3000", "sim", "deixa eu ver com o financeiro", "",
])
def test_otherwise_it_reads_like_parse_proposal(text: str) -> None:
    assert parse_proposal_answer(text, TODAY, "pt-BR") == parse_proposal(text, TODAY, "pt-BR")


def test_nothing_stated_is_empty() -> None:
    assert parse_proposal_answer("quero fazer uma contraproposta", TODAY) == Proposal()
