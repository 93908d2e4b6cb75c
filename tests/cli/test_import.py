"""`acordo import` and `acordo payments import`: valid rows stored, bad rows reported by line."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import ROOT, acordo


def test_csv_import_reports_bad_rows_and_keeps_good_ones(tmp_path: Path) -> None:
    lines = (ROOT / "docs" / "examples" / "portfolio.csv").read_text(encoding="utf-8").splitlines()
    lines.append("bad-co,Bad Co,11.111.111/1111-11,America/Sao_Paulo,pt-BR,X,web,x@bad,,B-1,10.00,BRL,"
                 "2026-11-01,bad cnpj")
    lines.append("padaria-sol,Padaria Sol Nascente Ltda,52.601.815/9083-69,America/Sao_Paulo,pt-BR,,,,,"
                 "NF-1003,12.5.0,BRL,2026-11-01,bad amount")
    csv_file = tmp_path / "portfolio.csv"
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    first = acordo(tmp_path, "import", str(csv_file), "--creditor", "demo")
    assert first.returncode == 0, first.stderr
    assert "2 debtors" in first.stdout and "3 debts stored" in first.stdout
    assert "2 rejected" in first.stdout
    assert "tax_id" in first.stderr and "amount" in first.stderr
    assert " 5 " in first.stderr or "│ 5 " in first.stderr  # line of the bad CNPJ row
    again = acordo(tmp_path, "import", str(csv_file), "--creditor", "demo")
    assert again.returncode == 0 and "3 debts stored" in again.stdout


def test_json_import_and_payments(tmp_path: Path) -> None:
    result = acordo(tmp_path, "import", str(ROOT / "docs" / "examples" / "portfolio.json"))
    assert result.returncode == 0, result.stderr
    assert "4 debtors" in result.stdout and "0 rejected" in result.stdout
    payments = tmp_path / "payments.csv"
    payments.write_text("debt_external_id,amount,paid_at,reference\n"
                        "NF-1001,1000.00,2026-11-20T10:00:00-03:00,pix-1\n"
                        "NF-1001,1000.00,2026-11-20T10:00:00-03:00,pix-1\n"
                        "NF-9999,5.00,2026-11-20T10:00:00-03:00,pix-2\n"
                        "NF-1002,5.5,2026-11-20T10:00:00,pix-3\n", encoding="utf-8")
    paid = acordo(tmp_path, "payments", "import", str(payments))
    assert paid.returncode == 0, paid.stderr
    assert "1 payments stored; 1 already recorded; 2 rejected" in paid.stdout
    assert "NF-9999" in paid.stderr and "paid_at" in paid.stderr


def test_unknown_creditor_and_missing_file_fail_clearly(tmp_path: Path) -> None:
    missing = acordo(tmp_path, "import", str(tmp_path / "nope.json"))
    assert missing.returncode == 1 and "error:" in missing.stderr
    wrong = acordo(tmp_path, "import", str(ROOT / "docs" / "examples" / "portfolio.json"),
                   "--creditor", "ghost")
    assert wrong.returncode == 1 and "ghost" in wrong.stderr
