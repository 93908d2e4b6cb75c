"""`acordo debts write-off`: the debt is written off; unknown, paid or written-off debts exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_import import ROOT, acordo


def test_write_off_from_the_command_line(tmp_path: Path) -> None:
    assert acordo(tmp_path, "import", str(ROOT / "docs" / "examples" / "portfolio.json")).returncode == 0
    done = acordo(tmp_path, "debts", "write-off", "NF-1001", "--creditor", "demo",
                  "--reason", "falência decretada")
    assert done.returncode == 0, done.stderr
    assert "NF-1001" in done.stdout and "written off" in done.stdout and "8000.00 outstanding" in done.stdout
    again = acordo(tmp_path, "debts", "write-off", "NF-1001", "--creditor", "demo", "--reason", "x")
    assert again.returncode == 1 and "written off already" in again.stderr
    unknown = acordo(tmp_path, "debts", "write-off", "NF-0000", "--creditor", "demo", "--reason", "x")
    assert unknown.returncode == 1 and "no debt 'NF-0000'" in unknown.stderr
    ghost = acordo(tmp_path, "debts", "write-off", "NF-1002", "--creditor", "ghost", "--reason", "x")
    assert ghost.returncode == 1 and "ghost" in ghost.stderr
    blank = acordo(tmp_path, "debts", "write-off", "NF-1002", "--creditor", "demo", "--reason", " ")
    assert blank.returncode == 1 and "reason" in blank.stderr
    payments = tmp_path / "payments.json"
    payments.write_text(json.dumps([{"debt_external_id": "NF-1002", "amount": "4000.00",
                                     "paid_at": "2026-11-20T10:00:00-03:00"}]), encoding="utf-8")
    assert acordo(tmp_path, "payments", "import", str(payments)).returncode == 0
    paid = acordo(tmp_path, "debts", "write-off", "NF-1002", "--creditor", "demo", "--reason", "x")
    assert paid.returncode == 1 and "is paid" in paid.stderr
    # The régua no longer plans the written-off invoice (NF-1002 is paid: not planned either).
    preview = acordo(tmp_path, "cadence", "preview", "--date", "2026-12-07", "--creditor", "demo", "--json")
    assert preview.returncode == 0, preview.stderr
    rows = json.loads(preview.stdout)
    assert "NF-1001" not in {r["debt"] for r in rows["planned"] + rows["skipped"]}
    missing = acordo(tmp_path, "debts", "write-off", "NF-2001", "--creditor", "demo")
    assert missing.returncode == 2 and "--reason" in missing.stderr
