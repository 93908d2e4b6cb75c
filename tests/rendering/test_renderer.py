"""TemplateRenderer: Babel formatting per locale, locale fallback, strictness and the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

from bot.rendering.renderer import (
    TemplateRenderer,
    TemplateRenderError,
    TemplateSourceError,
    TemplateValueError,
    UnknownTemplate,
    compile_check,
)

TEMPLATES = {
    "pt-BR/amount.j2": "Total: {{ amount|money }}\n",
    "en/amount.j2": "Total: {{ amount|money }}\n",
    "pt-BR/amount_usd.j2": "{{ amount|money('USD') }}",
    "pt-BR/amount_currency_var.j2": "{{ amount|money }}",
    "pt-BR/due.j2": "{{ day|weekday }}, {{ day|date }} ({{ day|date('long') }})",
    "en/due.j2": "{{ day|weekday }}, {{ day|date }} ({{ day|date('long') }})",
    "pt-BR/rate.j2": "{{ rate|percent }}",
    "en/rate.j2": "{{ rate|percent }}",
    "pt-BR/only_pt.j2": "so em portugues",
    "pt-BR/plan.j2": (
        "{% if installments %}\n"
        "{% for i in installments %}\n"
        "  {{ i.number }}: {{ i.amount|money }} em {{ i.due_date|date }}\n"
        "{% endfor %}\n"
        "{% endif %}\n"
    ),
    "pt-BR/hello.j2": "  Ola, {{ name }}!  \n\n",
    "pt-BR/mro.j2": "{{ ''.__class__.__mro__ }}",
    "pt-BR/attr_trick.j2": "{{ ''|attr('__class__') }}",
    "pt-BR/subclasses.j2": "{{ ().__class__.__base__.__subclasses__() }}",
    "pt-BR/globals.j2": "{{ cycler.__init__.__globals__ }}",
    "pt-BR/mutate.j2": "{% set _ = items.append(4) %}{{ items }}",
    "pt-BR/format_trick.j2": "{{ '{0.__class__}'.format(name) }}",
    "pt-BR/float_literal.j2": "{{ 1.5|money }}",
    "pt-BR/broken.j2": "{% if %}",
}


@pytest.fixture
def renderer(tmp_path: Path) -> TemplateRenderer:
    for name, source in TEMPLATES.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return TemplateRenderer(tmp_path, default_locale="pt-BR")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("pt-BR", "Total: R$ 1.500,00"), ("en", "Total: R$1,500.00")],
)
def test_money_per_locale(renderer: TemplateRenderer, locale: str, expected: str) -> None:
    assert renderer.render("amount", locale, {"amount": Decimal("1500")}) == expected


def test_money_currency_argument_and_variable(renderer: TemplateRenderer) -> None:
    assert renderer.render("amount_usd", "pt-BR", {"amount": Decimal("10.5")}) == "US$ 10,50"
    rendered = renderer.render(
        "amount_currency_var", "pt-BR", {"amount": Decimal("10.5"), "currency": "USD"}
    )
    assert rendered == "US$ 10,50"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pt-BR", "terça-feira, 15/12/2026 (15 de dezembro de 2026)"),
        ("en", "Tuesday, Dec 15, 2026 (December 15, 2026)"),
    ],
)
def test_dates_and_weekdays(renderer: TemplateRenderer, locale: str, expected: str) -> None:
    assert renderer.render("due", locale, {"day": date(2026, 12, 15)}) == expected


SAO_PAULO_MORNING = datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(hours=-3)))


def test_datetime_is_formatted_as_its_date(renderer: TemplateRenderer) -> None:
    rendered = renderer.render("due", "pt-BR", {"day": SAO_PAULO_MORNING})
    assert rendered == "sexta-feira, 27/11/2026 (27 de novembro de 2026)"


@pytest.mark.parametrize(
    ("locale", "rate", "expected"),
    [
        ("pt-BR", Decimal(5), "5%"),
        ("pt-BR", Decimal("2.5"), "2,5%"),
        ("en", Decimal("2.5"), "2.5%"),
        ("pt-BR", 10, "10%"),
    ],
)
def test_percent(renderer: TemplateRenderer, locale: str, rate: object, expected: str) -> None:
    assert renderer.render("rate", locale, {"rate": rate}) == expected


@pytest.mark.parametrize("tag", ["pt", "pt_BR", "PT-br", "pt-PT"])
def test_portuguese_tags_map_to_pt_br(renderer: TemplateRenderer, tag: str) -> None:
    assert renderer.render("amount", tag, {"amount": Decimal("1")}) == "Total: R$ 1,00"


@pytest.mark.parametrize("tag", ["en-US", "en_GB", "EN"])
def test_english_tags_map_to_en(renderer: TemplateRenderer, tag: str) -> None:
    assert renderer.render("amount", tag, {"amount": Decimal("1")}) == "Total: R$1.00"


def test_falls_back_to_default_locale(renderer: TemplateRenderer) -> None:
    assert renderer.render("only_pt", "en", {}) == "so em portugues"
    assert renderer.render("only_pt", "es", {}) == "so em portugues"


def test_unknown_template(renderer: TemplateRenderer) -> None:
    with pytest.raises(UnknownTemplate) as raised:
        renderer.render("nope", "en", {})
    assert isinstance(raised.value, TemplateNotFound)
    assert (raised.value.template_name, raised.value.locale) == ("nope", "en")


@pytest.mark.parametrize("name", ["../pt-BR/hello", "/etc/passwd", "", "a/../../b"])
def test_template_names_cannot_escape_the_folder(renderer: TemplateRenderer, name: str) -> None:
    with pytest.raises(UnknownTemplate):
        renderer.render(name, "pt-BR", {"name": "x"})


def test_result_is_stripped_and_blocks_trimmed(renderer: TemplateRenderer) -> None:
    assert renderer.render("hello", "pt-BR", {"name": "Ana"}) == "Ola, Ana!"
    plan = {
        "installments": [
            {"number": 1, "amount": Decimal("500"), "due_date": date(2026, 12, 1)},
            {"number": 2, "amount": Decimal("500"), "due_date": date(2027, 1, 1)},
        ]
    }
    assert renderer.render("plan", "pt-BR", plan) == (
        "1: R$ 500,00 em 01/12/2026\n  2: R$ 500,00 em 01/01/2027"
    )


def test_chat_text_is_not_html_escaped(renderer: TemplateRenderer) -> None:
    assert renderer.render("hello", "pt-BR", {"name": "<Ana & Cia>"}) == "Ola, <Ana & Cia>!"


def test_missing_variable_raises_with_template_name(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateRenderError) as raised:
        renderer.render("hello", "pt-BR", {})
    assert raised.value.template_name == "hello"
    assert "name" in str(raised.value)


@pytest.mark.parametrize(
    "name", ["mro", "attr_trick", "subclasses", "globals", "mutate", "format_trick"]
)
def test_sandbox_refuses_python_internals(renderer: TemplateRenderer, name: str) -> None:
    with pytest.raises(TemplateRenderError) as raised:
        renderer.render(name, "pt-BR", {"name": "x", "items": [1, 2, 3]})
    assert raised.value.template_name == name


def test_float_variable_is_refused(renderer: TemplateRenderer) -> None:
    with pytest.raises(TypeError, match="amount"):
        renderer.render("amount", "pt-BR", {"amount": 1500.0})


def test_nested_float_is_refused_naming_the_path(renderer: TemplateRenderer) -> None:
    plan = {"installments": [{"number": 1, "amount": 5.5, "due_date": date(2026, 12, 1)}]}
    with pytest.raises(TypeError, match=r"installments\[0\]\.amount"):
        renderer.render("plan", "pt-BR", plan)


def test_float_literal_in_template_is_refused_by_the_filter(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateValueError) as raised:
        renderer.render("float_literal", "pt-BR", {})
    assert isinstance(raised.value, TypeError)
    assert raised.value.template_name == "float_literal"


@pytest.mark.parametrize("value", ["1500", 1500, True])
def test_money_needs_decimal(renderer: TemplateRenderer, value: object) -> None:
    with pytest.raises(TypeError):
        renderer.render("amount", "pt-BR", {"amount": value})


def test_date_filter_needs_a_date(renderer: TemplateRenderer) -> None:
    with pytest.raises(TypeError):
        renderer.render("due", "pt-BR", {"day": "2026-12-15"})


@dataclass
class Debtor:  # stands in for an ORM row
    name: str


def test_orm_like_object_is_refused(renderer: TemplateRenderer) -> None:
    with pytest.raises(TypeError, match="debtor"):
        renderer.render("hello", "pt-BR", {"name": "x", "debtor": Debtor("Ana")})
    with pytest.raises(TypeError, match=r"people\[1\]"):
        renderer.render("hello", "pt-BR", {"name": "x", "people": ["ok", Debtor("Ana")]})


def test_non_str_dict_keys_are_refused(renderer: TemplateRenderer) -> None:
    with pytest.raises(TypeError, match="keys"):
        renderer.render("hello", "pt-BR", {"name": "x", "extra": {1: "a"}})


def test_broken_template_raises_source_error(renderer: TemplateRenderer) -> None:
    with pytest.raises(TemplateSourceError) as raised:
        renderer.render("broken", "pt-BR", {})
    assert raised.value.lineno == 1


def test_compile_check() -> None:
    compile_check("Ola {{ name }}, {{ amount|money }} em {{ day|date('long') }}")
    with pytest.raises(TemplateSourceError, match="line 2"):
        compile_check("ok\n{% for x in %}")
    with pytest.raises(TemplateSourceError, match="nofilter"):
        compile_check("{{ x|nofilter }}")
    with pytest.raises(TemplateRenderError):
        compile_check("{% endif %}")


# -- output size and time limits ---------------------------------------------------------

def test_a_huge_variable_is_cut_at_the_output_limit(tmp_path: Path) -> None:
    from bot.rendering.renderer import MAX_OUTPUT_CHARS, TemplateRenderer

    (tmp_path / "pt-BR").mkdir()
    (tmp_path / "pt-BR" / "echo.j2").write_text("Sobre {{ description }}: ok", encoding="utf-8")
    renderer = TemplateRenderer(tmp_path)
    text = renderer.render("echo", "pt-BR", {"description": "x" * 5_000_000})
    assert len(text) == MAX_OUTPUT_CHARS and text.endswith("…")
    assert renderer.render("echo", "pt-BR", {"description": "NF 9"}) == "Sobre NF 9: ok"


@pytest.mark.parametrize("source", [
    "{{ 'x' * 100000000 }}",
    "{{ [1] * 100000000 }}",
    "{{ 10 ** 100000000 }}",
])
def test_templates_cannot_build_huge_values(source: str) -> None:
    from bot.rendering.renderer import TemplateRenderer

    renderer = TemplateRenderer(Path("templates"))
    renderer.set_stored("greedy", "pt-BR", source)
    with pytest.raises(TemplateRenderError):
        renderer.render("greedy", "pt-BR", {})


def test_a_looping_template_stops_at_the_output_limit() -> None:
    from bot.rendering.renderer import MAX_OUTPUT_CHARS, TemplateRenderer

    renderer = TemplateRenderer(Path("templates"))
    renderer.set_stored("loop", "pt-BR",
                       "{% for i in range(100000) %}{% for j in range(100000) %}xy{% endfor %}{% endfor %}")
    text = renderer.render("loop", "pt-BR", {})
    assert len(text) == MAX_OUTPUT_CHARS


def test_a_slow_template_stops_at_the_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.rendering import renderer as module

    monkeypatch.setattr(module, "MAX_RENDER_SECONDS", 0.05)
    monkeypatch.setattr(module, "MAX_OUTPUT_CHARS", 10**9)
    renderer = module.TemplateRenderer(Path("templates"))
    renderer.set_stored("slow", "pt-BR", "{% for i in range(100000) %}{% for j in range(100000) %}"
                                         "{{ i }}{% endfor %}{% endfor %}")
    with pytest.raises(TemplateRenderError, match="took over"):
        renderer.render("slow", "pt-BR", {})
