"""The reviewed hostile wording list (bot/rendering/hostile_terms.yaml): every entry catches
its example, polite sentences pass, the shipped templates pass, and the template admin
refuses and previews with the same warnings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.policies.models import TemplateRules
from bot.rendering.hostile_terms import hostile_terms, hostile_terms_in, parse_terms
from bot.rendering.template_rules import check_template

ROOT = Path(__file__).resolve().parents[2]
TERMS = hostile_terms()


@pytest.mark.parametrize("term", TERMS, ids=[t.entry.id for t in TERMS])
def test_each_entry_catches_its_example(term) -> None:  # type: ignore[no-untyped-def]
    assert term in hostile_terms_in(term.entry.example)


@pytest.mark.parametrize(("sentence", "expected"), [
    ("pague agora ou vamos processar você, caloteiro", {"pt_pague_ou", "pt_processar", "pt_caloteiro"}),
    ("PAGUE AGORA OU VAMOS PROCESSAR VOCE, CALOTEIRO", {"pt_pague_ou", "pt_processar", "pt_caloteiro"}),
    ("Se não pagar até sexta, vamos negativar o CNPJ.", {"pt_pague_ou", "pt_negativar"}),
    ("Sua dívida irá para protesto.", {"pt_protesto"}),
    ("Vamos incluir a empresa no SPC.", {"pt_negativar"}),
    ("Seus fornecedores vão saber da dívida.", {"pt_todos_vao_saber"}),
    ("Ação judicial em andamento.", {"pt_processo_judicial"}),
    ("Falta pouco para a polícia bater aí.", {"pt_policia"}),
    ("Pay today or we'll take you to court.", {"en_pay_or", "en_lawsuit"}),
    ("We’ll sue.", {"en_sue"}),
    ("We will tell your customers about this debt.", {"en_everyone_will_know"}),
    ("You are a liar and a thief.", {"en_deadbeat"}),
])
def test_hostile_sentences_are_caught(sentence: str, expected: set[str]) -> None:
    assert {t.entry.id for t in hostile_terms_in(sentence)} == expected


@pytest.mark.parametrize("sentence", [
    "O processo de pagamento é simples: use o PIX abaixo.",
    "Vamos processar o seu pagamento em até 2 dias úteis.",
    "We can process your payment today.",
    "Pague à vista ou parcele em até 6x, como preferir.",
    "Pay in full or in installments, whatever suits you.",
    "Conforme exposto acima, o saldo é de R$ 1.000,00.",
    "Atendemos somente pessoa jurídica (CNPJ).",
    "Após o pagamento, a baixa é automática.",
    "Sua última fatura vence dia 10.",
    "Thank you, Sue! Your last invoice is due on the 10th.",
    "Podemos parcelar com justiça para os dois lados? Temos uma proposta justa.",
    "Estamos à disposição para encontrar um acordo bom para a sua empresa.",
    "Our team will contact you next week to help.",
    "Se preferir, fale com uma pessoa da nossa equipe.",
    "Responda SAIR para não receber mais mensagens.",
    "Reply STOP to unsubscribe.",
    "Já está presente no sistema o seu pagamento.",
    "O prazo para pagar é até a próxima sexta.",
])
def test_polite_sentences_pass(sentence: str) -> None:
    assert hostile_terms_in(sentence) == []


def test_the_shipped_templates_pass() -> None:
    files = sorted((ROOT / "templates").rglob("*.j2"))
    assert files
    flagged = {str(p.relative_to(ROOT)): [t.entry.id for t in hostile_terms_in(p.read_text("utf-8"))]
               for p in files}
    assert {k: v for k, v in flagged.items() if v} == {}


@pytest.mark.parametrize(("text", "problem"), [
    ("terms: [{id: a, locale: pt-BR, kind: threat, label: x, pattern: '(', why: y, example: z}]",
     "does not compile"),
    ("terms: [{id: a, locale: pt-BR, kind: threat, label: x, pattern: 'abc', why: y, example: z}]",
     "example is not caught"),
    ("terms: [{id: a, locale: pt-BR, kind: threat, label: x, pattern: 'z', why: y, example: z},"
     " {id: a, locale: en, kind: insult, label: x, pattern: 'z', why: y, example: z}]", "twice"),
])
def test_a_bad_entry_stops_the_load(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_terms(text)


def test_the_template_check_names_the_term_and_why() -> None:
    result = check_template("{{ contact_name }}, pague agora ou vamos processar você, caloteiro.",
                            name="goodbye", locale="pt-BR", rules=[TemplateRules()], today=date(2026, 12, 7))
    [problem] = [p for p in result.problems if p.code == "hostile"]
    for named in ("pague agora ou", "processar", "caloteiro", "CDC art. 42"):
        assert named in problem.message
