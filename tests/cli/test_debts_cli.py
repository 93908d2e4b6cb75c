"""`acordo debts write-off`: the debt is written off; unknown, paid or written-off debts exit 1.

The first write-off and the régua preview run the real command in a subprocess; the refusals
run the same Typer app in process (each subprocess costs about 3 s of imports)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bot.cli.app import app
from tests.support.cli import ROOT, acordo


def in_process(tmp_path: Path, *args: str) -> Any:
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "COLUMNS": "200"}
    return CliRunner().invoke(app, list(args), env=env)


def test_write_off_from_the_command_line(tmp_path: Path) -> None:
    assert acordo(tmp_path, "import", str(ROOT / "docs" / "examples" / "portfolio.json")).returncode == 0
    done = acordo(tmp_path, "debts", "write-off", "NF-1001", "--creditor", "demo",
                  "--reason", "falência decretada")
    assert done.returncode == 0, done.stderr
    assert "NF-1001" in done.stdout and "written off" in done.stdout and "8000.00 outstanding" in done.stdout
    again = in_process(tmp_path, "debts", "write-off", "NF-1001", "--creditor", "demo", "--reason", "x")
    assert again.exit_code == 1 and "written off already" in again.stderr
    unknown = in_process(tmp_path, "debts", "write-off", "NF-0000", "--creditor", "demo", "--reason", "x")
    assert unknown.exit_code == 1 and "no debt 'NF-0000'" in unknown.stderr
    ghost = in_process(tmp_path, "debts", "write-off", "NF-1002", "--creditor", "ghost", "--reason", "x")
    assert ghost.exit_code == 1 and "ghost" in ghost.stderr
    blank = in_process(tmp_path, "debts", "write-off", "NF-1002", "--creditor", "demo", "--reason", " ")
    assert blank.exit_code == 1 and "reason" in blank.stderr
    payments = tmp_path / "payments.json"
    payments.write_text(json.dumps([{"debt_external_id": "NF-1002", "amount": "4000.00",
                                     "paid_at": "2026-11-20T10:00:00-03:00"}]), encoding="utf-8")
    assert in_process(tmp_path, "payments", "import", str(payments)).exit_code == 0
    paid = in_process(tmp_path, "debts", "write-off", "NF-1002", "--creditor", "demo", "--reason", "x")
    assert paid.exit_code == 1 and "is paid" in paid.stderr
    # The régua no longer plans the written-off invoice (NF-1002 is paid: not planned either).
    preview = acordo(tmp_path, "cadence", "preview", "--date", "2026-12-07", "--creditor", "demo", "--json")
    assert preview.returncode == 0, preview.stderr
    rows = json.loads(preview.stdout)
    assert "NF-1001" not in {r["debt"] for r in rows["planned"] + rows["skipped"]}
    missing = in_process(tmp_path, "debts", "write-off", "NF-2001", "--creditor", "demo")
    assert missing.exit_code == 2 and "--reason" in missing.output
