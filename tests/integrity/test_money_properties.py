"""Hypothesis properties of money through the HTTP API.

For any sequence of valid payments against a debt not yet due, the balance is the amount
less the sum of the payments, never below zero, and the debt is ``paid`` exactly when the
sum reaches the amount; any invalid amount is a 4xx and changes nothing.
"""

from __future__ import annotations

import itertools
from decimal import Decimal

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.schemas import MONEY_PATTERN
from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CENTS = Decimal("0.01")
_ids = itertools.count()

amounts = st.decimals(min_value=CENTS, max_value=Decimal("5000.00"), places=2)
invalid_amounts = st.one_of(
    st.decimals(max_value=Decimal("0.00"), places=2).map(str),  # zero and negative
    st.decimals(min_value=Decimal("10000000000.00"), max_value=Decimal("1e15"), places=2).map(str),
    st.decimals(min_value=CENTS, max_value=Decimal("100"), places=3).filter(
        lambda d: d != d.quantize(CENTS)).map(str),  # three decimals
    st.sampled_from(["NaN", "Infinity", "-0.00", "1e3", "1,00", " ", "", "R$ 10,00", "0x10"]),
    st.integers(min_value=1, max_value=1000),  # numbers, not strings
    st.floats(allow_nan=False, allow_infinity=False),  # (NaN as a raw body: test_hostile_inputs)
    st.booleans(),
)


async def _new_debt(client: httpx.AsyncClient, amount: Decimal) -> str:
    n = next(_ids)
    body = {"creditor": "demo", "debtors": [{
        "external_id": f"prop-{n}", "name": "Propriedade Ltda", "tax_id": "52.601.815/9083-69",
        "debts": [{"external_id": f"P-{n}", "amount": f"{amount}", "currency": "BRL",
                   "due_date": "2027-06-01"}]}]}
    report = (await client.post("/api/v1/portfolio", json=body, headers=ADMIN)).json()
    assert report["rejected"] == [], report
    return f"prop-{n}"


async def _debt(client: httpx.AsyncClient, debtor: str) -> dict[str, str]:
    view = (await client.get(f"/api/v1/debtors/{debtor}", headers=ADMIN)).json()
    debt: dict[str, str] = view["debts"][0]
    return debt


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount=amounts, payments=st.lists(amounts, max_size=6))
async def test_balance_is_amount_less_payments_never_below_zero(
        client: httpx.AsyncClient, amount: Decimal, payments: list[Decimal]) -> None:
    debtor = await _new_debt(client, amount)
    debt_id = (await _debt(client, debtor))["external_id"]
    for index, paid in enumerate(payments):
        response = await client.post("/api/v1/payments", headers=ADMIN, json={
            "debt_external_id": debt_id, "amount": f"{paid}", "reference": f"{debt_id}-{index}",
            "paid_at": "2026-11-26T10:00:00-03:00"})
        assert response.status_code == 200, response.text
    debt = await _debt(client, debtor)
    total = sum(payments, Decimal("0.00"))
    assert Decimal(debt["balance"]) == max(amount - total, Decimal("0.00"))
    assert (debt["status"] == "paid") == (total >= amount)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=invalid_amounts)
async def test_invalid_amounts_are_a_4xx_and_change_nothing(client: httpx.AsyncClient, bad: object) -> None:
    debtor = await _new_debt(client, Decimal("100.00"))
    before = await _debt(client, debtor)
    response = await client.post("/api/v1/payments", headers=ADMIN, json={
        "debt_external_id": before["external_id"], "amount": bad, "paid_at": "2026-11-26T10:00:00-03:00"})
    assert 400 <= response.status_code < 500, (bad, response.text)
    assert await _debt(client, debtor) == before


@given(text=st.from_regex(MONEY_PATTERN, fullmatch=True))
def test_every_amount_the_schema_allows_is_positive_and_bounded(text: str) -> None:
    value = Decimal(text)
    assert Decimal("0.01") <= value <= Decimal("9999999999.99") and value == value.quantize(CENTS)
