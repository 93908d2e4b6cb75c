"""Properties of the value parsers: formatted amounts round-trip, nothing ever raises."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.understanding.values import (
    parse_amount,
    parse_amounts,
    parse_date,
    parse_installments,
    parse_percent,
    parse_proposal,
)

TODAY = date(2026, 11, 26)

money = st.decimals(
    min_value=Decimal("0.01"), max_value=Decimal("99999999.99"), places=2,
    allow_nan=False, allow_infinity=False,
)
babel_locales = st.sampled_from([("pt_BR", "pt-BR"), ("en", "en")])


@given(money, babel_locales)
def test_formatted_decimal_round_trips(amount: Decimal, locales: tuple[str, str]) -> None:
    babel_locale, locale = locales
    text = format_decimal(amount, locale=babel_locale)
    assert parse_amount(text, locale) == amount


@given(money, babel_locales)
def test_formatted_currency_round_trips(amount: Decimal, locales: tuple[str, str]) -> None:
    babel_locale, locale = locales
    text = format_currency(amount, "BRL", locale=babel_locale)
    assert parse_amount(f"consigo pagar {text}", locale) == amount


@given(money, babel_locales, st.integers(min_value=2, max_value=24))
def test_amount_after_installment_count(
    amount: Decimal, locales: tuple[str, str], count: int
) -> None:
    babel_locale, locale = locales
    text = f"{count}x de {format_decimal(amount, locale=babel_locale)}"
    assert parse_amounts(text, locale) == [amount]
    assert parse_installments(text, locale) == count


ANY_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.text(alphabet=st.sampled_from(list("0123456789.,/:-xk%$R dia mil e ")), max_size=200),
    st.lists(st.sampled_from(["😀", "🙏", "👍🏽", "\u200b", "\x00", "\x1b", "\ufeff",
                              "ª", "º", "½", "٣", "R$", " ", "6x", "mil", "dia", "15", ","]),
             max_size=100).map("".join),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_TEXT, st.sampled_from(["pt-BR", "en", "pt", "xx"]))
def test_parsers_never_raise(text: str, locale: str) -> None:
    parse_amounts(text, locale)
    parse_installments(text, locale)
    parse_percent(text, locale)
    parse_date(text, TODAY, locale)
    parse_proposal(text, TODAY, locale)


def test_parsers_handle_a_long_message() -> None:
    chunk = "consigo 6x de 2 mil começando dia 15 😀 \x00 R$ 1.500,00 50% "
    text = (chunk * (10_000 // len(chunk) + 1))[:10_000]
    assert parse_amount(text) == Decimal("2000")
    assert parse_installments(text) == 6
    assert parse_date(text, TODAY) == date(2026, 12, 15)
    assert parse_proposal(text, TODAY).installments == 6


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
       st.sampled_from(["sexta", "dia 15", "amanha", "fim do mes", "mes que vem",
                        "semana que vem", "em 30 dias", "15/12", "next friday", "on the 31st"]))
def test_dates_are_never_in_the_past(today: date, text: str) -> None:
    found = parse_date(text, today)
    assert found is not None and found >= today
