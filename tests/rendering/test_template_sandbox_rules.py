"""The template admin's sandbox rules: Jinja internals refused by name, output bounded."""

from __future__ import annotations

from datetime import date

import pytest

from bot.policies.models import TemplateRules
from bot.rendering.template_rules import MAX_OUTPUT_CHARS, check_template

TODAY = date(2026, 12, 7)
EACH_DEBT = "{% for d in debts %}"
END = "{% endfor %}"


def check(source: str, name: str = "debt_details"):  # type: ignore[no-untyped-def]
    return check_template(source, name=name, locale="pt-BR", rules=[TemplateRules()], today=TODAY)


@pytest.mark.parametrize(("source", "named"), [
    ("{{ self }}", "'self'"),
    ("Olá {{ self.__dict__ }}", "'self'"),
    ("{{ namespace }}", "'namespace'"),
    ("{{ cycler }}", "'cycler'"),
    ("{{ joiner }}", "'joiner'"),
    ("{{ lipsum }}", "'lipsum'"),
    ("{{ dict }}", "'dict'"),
    ("{{ loop }}", "'loop'"),
    ("{{ _hidden }}", "'_hidden'"),
    (EACH_DEBT + "{{ loop.cycle }}" + END, "'loop.cycle'"),
    (EACH_DEBT + "{{ loop.changed }}" + END, "'loop.changed'"),
    (EACH_DEBT + "{{ loop }}" + END, "'loop'"),
    ("{% set x = debtor_name %}{{ x }}", "{% set %}"),
    ("{% with x = debtor_name %}{{ x }}{% endwith %}", "{% with %}"),
    ("{{ '%0999999d' % 1 }}", "'%' operator"),
    ("{{ debtor_name.__class__ }}", "'__class__'"),
    (EACH_DEBT * 3 + "." + END * 3, "nested more than 2 deep"),
    ("{% for c in debtor_name|replace('', debtor_name)|list %}" + EACH_DEBT + "." + END + END,
     "over anything but a variable"),
    ("{% for c in [1, 2, 3] %}.{% endfor %}", "over anything but a variable"),
])
def test_internals_are_refused_by_name(source: str, named: str) -> None:
    result = check(source)
    assert not result.ok and result.preview is None
    unsafe = [p.message for p in result.problems if p.code == "unsafe"]
    assert unsafe and named in unsafe[0], result.problems


@pytest.mark.parametrize("source", [
    "{{ debtor_name|replace('', debtor_name)|replace('', debtor_name)|replace('', debtor_name) }}",
    "{{ debtor_name|replace('a', debtor_name ~ debtor_name ~ debtor_name)" + "|replace('a', "
    "debtor_name ~ debtor_name)" * 6 + " }}",
    EACH_DEBT * 2 + "{{ debtor_name|replace('a', '" + "x" * 1000 + "') }}" + END * 2,
])
def test_output_growing_past_the_cap_is_refused(source: str) -> None:
    result = check(source)
    assert [p.code for p in result.problems] == ["too_large"], result.problems
    assert str(MAX_OUTPUT_CHARS) in result.problems[0].message


@pytest.mark.parametrize("source", [
    EACH_DEBT + "{{ d.external_id }}{% if not loop.last %}, {% endif %}{{ loop.index }}" + END,
    "{{ debtor_name|replace('Ltda', 'LTDA') }}: {{ total|money }}",
    EACH_DEBT * 2 + "." + END * 2,
    "OFFER {% for i in offer.installments %}{{ i.amount|money }}{% endfor %}",
    "OFFER {% for i in offer['installments'] %}{{ i.number }}{% endfor %}",
])
def test_ordinary_templates_still_pass(source: str) -> None:
    result = check(source, "offer_installments" if source.startswith("OFFER") else "debt_details")
    assert result.ok, result.problems
    assert result.preview


def test_every_shipped_template_passes_the_sandbox_rules() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    files = sorted(root.rglob("*.j2"))
    assert len(files) > 50
    refused = {}
    for path in files:
        result = check_template(path.read_text("utf-8"), name=path.stem.split(".")[0],
                                locale=path.parent.name, rules=[TemplateRules()], today=TODAY)
        codes = {p.code for p in result.problems} & {"unsafe", "too_large", "too_deep", "render",
                                                      "syntax", "hostile"}
        if codes:
            refused[str(path.relative_to(root))] = sorted(codes)
    assert refused == {}
