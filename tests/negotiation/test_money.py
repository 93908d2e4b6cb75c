from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.negotiation.money import CENT, round_money, split_amount

from .strategies import money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("2.675", "2.68"),
        ("-2.675", "-2.68"),
        ("10", "10.00"),
        ("1234.5649", "1234.56"),
    ],
)
def test_round_money_is_half_up_to_cents(value: str, expected: str) -> None:
    assert round_money(Decimal(value)) == Decimal(expected)
    assert Decimal("0.01") == CENT


@pytest.mark.parametrize(
    ("total", "parts", "first", "expected"),
    [
        ("100.00", 3, None, ["33.33", "33.33", "33.34"]),
        ("100.00", 1, None, ["100.00"]),
        ("0.02", 3, None, ["0.00", "0.00", "0.02"]),
        ("100.00", 3, "50.00", ["50.00", "25.00", "25.00"]),
        ("100.00", 4, "10.00", ["10.00", "30.00", "30.00", "30.00"]),
        ("100.00", 4, "10.01", ["10.01", "29.99", "29.99", "30.01"]),
        ("100.00", 1, "100.00", ["100.00"]),
    ],
)
def test_split_amount_examples(
    total: str, parts: int, first: str | None, expected: list[str]
) -> None:
    result = split_amount(Decimal(total), parts, first=None if first is None else Decimal(first))
    assert result == [Decimal(amount) for amount in expected]


@pytest.mark.parametrize(
    ("total", "parts", "first"),
    [("10.00", 0, None), ("10.00", 2, "10.01"), ("10.00", 1, "5.00")],
)
def test_split_amount_rejects_impossible_splits(total: str, parts: int, first: str | None) -> None:
    with pytest.raises(ValueError):
        split_amount(Decimal(total), parts, first=None if first is None else Decimal(first))


@settings(max_examples=200)
@given(total=money("0.00"), parts=st.integers(min_value=1, max_value=60), data=st.data())
def test_split_amount_sums_exactly_and_last_takes_the_cents(
    total: Decimal, parts: int, data: st.DataObject
) -> None:
    first = data.draw(st.none() | money("0.00", str(total)) if parts > 1 else st.none())
    result = split_amount(total, parts, first=first)
    assert len(result) == parts
    assert sum(result, Decimal(0)) == total
    assert all(amount == round_money(amount) and amount >= 0 for amount in result)
    if first is not None:
        assert result[0] == first
    even = result[1:-1] if first is not None else result[:-1]
    assert all(amount == even[0] for amount in even)
    if even:
        assert 0 <= result[-1] - even[0] < CENT * parts
