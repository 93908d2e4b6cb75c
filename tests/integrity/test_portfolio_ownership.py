"""A debt's external id is the creditor's: an import never moves it to another debtor, and
duplicates inside one payload are rejected with their row, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from bot.cli.app import app
from tests.conftest import ADMIN_TOKEN, ROOT
from tests.support.portfolio import PORTFOLIO

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _intruder(debt_amount: str = "1.00") -> dict[str, Any]:
    return {"external_id": "intruder", "name": "Intruso Ltda", "tax_id": "52.601.815/9083-69",
            "contacts": [{"name": "X", "channel": "web", "address": "x@intruso.com.br"}],
            "debts": [{"external_id": "NF-9", "amount": debt_amount, "currency": "BRL",
                       "due_date": "2026-10-01"}]}


async def test_a_new_debtor_cannot_take_another_debtors_debt(backend_client: httpx.AsyncClient) -> None:
    assert (await backend_client.post("/api/v1/portfolio", json=PORTFOLIO, headers=ADMIN)).status_code == 200
    before = (await backend_client.get("/api/v1/debtors/acme", headers=ADMIN)).json()
    body = {"creditor": "demo", "debtors": [_intruder()]}
    response = await backend_client.post("/api/v1/portfolio", json=body, headers=ADMIN)
    assert response.status_code == 200
    report = response.json()
    assert (report["debtors"], report["debts"]) == (0, 0)
    [rejected] = report["rejected"]
    assert rejected["row"] == 0 and rejected["field"] == "debts.external_id"
    assert "NF-9" in rejected["reason"] and "acme" in rejected["reason"]
    after = (await backend_client.get("/api/v1/debtors/acme", headers=ADMIN)).json()
    assert after["debts"] == before["debts"]
    assert (await backend_client.get("/api/v1/debtors/intruder", headers=ADMIN)).status_code == 404


async def test_one_debt_twice_in_a_payload_is_rejected_not_counted(
        backend_client: httpx.AsyncClient) -> None:
    body = copy.deepcopy(PORTFOLIO)
    debt = body["debtors"][0]["debts"][0]
    body["debtors"][0]["debts"] = [debt, {**debt, "amount": "2000.00"}]
    other = _intruder()
    other["debts"][0]["external_id"] = "NF-77"
    third = copy.deepcopy(other)
    third.update(external_id="third", contacts=[])
    body["debtors"] += [other, third]  # NF-77 claimed by two debtors of one file
    report = (await backend_client.post("/api/v1/portfolio", json=body, headers=ADMIN)).json()
    assert sorted((r["row"], r["field"]) for r in report["rejected"]) == [
        (0, "debts.external_id"), (2, "debts.external_id")]
    assert (report["debtors"], report["debts"]) == (1, 1)
    assert (await backend_client.get("/api/v1/debtors/acme", headers=ADMIN)).status_code == 404
    intruder = (await backend_client.get("/api/v1/debtors/intruder", headers=ADMIN)).json()
    assert [d["external_id"] for d in intruder["debts"]] == ["NF-77"]


async def test_the_same_debtor_may_update_its_own_debt(backend_client: httpx.AsyncClient) -> None:
    assert (await backend_client.post("/api/v1/portfolio", json=PORTFOLIO, headers=ADMIN)).status_code == 200
    body = copy.deepcopy(PORTFOLIO)
    body["debtors"][0]["debts"][0]["amount"] = "1200.00"
    report = (await backend_client.post("/api/v1/portfolio", json=body, headers=ADMIN)).json()
    assert report["rejected"] == [] and report["debts"] == 1
    view = (await backend_client.get("/api/v1/debtors/acme", headers=ADMIN)).json()
    assert view["debts"][0]["amount"] == "1200.00"


def test_csv_import_rejects_a_debt_of_another_debtor_with_its_line(tmp_path: Path) -> None:
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "COLUMNS": "200"}
    example = str(ROOT / "docs" / "examples" / "portfolio.csv")
    first = CliRunner().invoke(app, ["import", example, "--creditor", "demo"], env=env)
    assert first.exit_code == 0, first.output
    header = (ROOT / "docs" / "examples" / "portfolio.csv").read_text(encoding="utf-8").splitlines()[0]
    stolen = ("intruso,Intruso Ltda,52.601.815/9083-69,America/Sao_Paulo,pt-BR,,,,,"
              "NF-1001,1.00,BRL,2026-11-06,")
    path = tmp_path / "again.csv"
    path.write_text(f"{header}\n{stolen}\n", encoding="utf-8")
    again = CliRunner().invoke(app, ["import", str(path), "--creditor", "demo"], env=env)
    assert "NF-1001" in again.output and "belongs to debtor 'padaria-sol'" in again.output
    assert "line 2" in again.output or " 2 " in again.output
