"""Money arithmetic: ``Decimal`` rounded to cents, never ``float``."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

CENT = Decimal("0.01")


def round_money(value: Decimal) -> Decimal:
    """Round to cents, half up (R$ 0,005 -> R$ 0,01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def round_money_up(value: Decimal) -> Decimal:
    """Round up to the next cent: used for minimums, so that a minimum is never undercut."""
    return value.quantize(CENT, rounding=ROUND_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``amount``, unrounded."""
    return amount * percent / Decimal(100)


def split_amount(total: Decimal, parts: int, *, first: Decimal | None = None) -> list[Decimal]:
    """Split ``total`` into ``parts`` amounts that sum exactly to ``total`` (rounded to cents).

    Without ``first`` the total is split evenly. With ``first`` the first amount is ``first``
    and the remainder is split evenly among the other ``parts - 1`` amounts. Even shares are
    rounded *down* to cents and the leftover cents (fewer than ``parts``) go to the LAST
    amount, so the last amount is never smaller than the other even shares.

    Raises ``ValueError`` when ``parts < 1``, when ``first`` exceeds the total, or when
    ``parts == 1`` and ``first`` differs from the total.
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    total = round_money(total)
    if first is None:
        even = (total / parts).quantize(CENT, rounding=ROUND_DOWN)
        return [even] * (parts - 1) + [total - even * (parts - 1)]
    first = round_money(first)
    if parts == 1:
        if first != total:
            raise ValueError(f"a single part must equal the total {total}, got first={first}")
        return [total]
    rest = total - first
    if rest < 0:
        raise ValueError(f"first amount {first} exceeds the total {total}")
    others = parts - 1
    even = (rest / others).quantize(CENT, rounding=ROUND_DOWN)
    return [first] + [even] * (others - 1) + [rest - even * (others - 1)]
