"""`acordo cadence preview`: the documented JSON, and the readable counts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def acordo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "ACORDO_TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "ACORDO_TWILIO_AUTH_TOKEN": "x",
           "ACORDO_TWILIO_API_URL": "http://127.0.0.1:9", "ACORDO_TWILIO_WHATSAPP_FROM": "+5511900000000",
           "ACORDO_TWILIO_SMS_FROM": "+5511900000000", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=120)


def test_preview_json_and_table(tmp_path: Path) -> None:
    assert acordo(tmp_path, "import", str(ROOT / "docs" / "examples" / "portfolio.csv"),
                  "--creditor", "demo").returncode == 0
    result = acordo(tmp_path, "cadence", "preview", "--date", "2030-12-09", "--json")
    assert result.returncode == 0, result.stderr
    preview = json.loads(result.stdout)
    assert set(preview) == {"date", "planned", "skipped"} and preview["date"] == "2030-12-09"
    assert preview["planned"], preview
    for row in preview["planned"]:
        assert {"debtor", "debt", "step", "template", "channel", "at"} <= set(row)
        assert row["at"] == "2030-12-09T08:00:00-03:00"
    reasons = {"closed_day", "holiday", "outside_hours", "cap_per_day", "cap_per_7_days", "opted_out",
               "wrong_person", "dispute", "human", "agreement", "paid", "no_channel"}
    for row in preview["skipped"]:
        assert {"debtor", "debt", "step", "reason"} <= set(row) and row["reason"] in reasons
    table = acordo(tmp_path, "cadence", "preview", "--date", "2030-12-09")
    assert table.returncode == 0 and "to send" in table.stdout and "whatsapp" in table.stdout
    holiday = acordo(tmp_path, "cadence", "preview", "--date", "2030-12-25", "--json")
    assert {row["reason"] for row in json.loads(holiday.stdout)["skipped"]} <= {"holiday", "no_channel"}
    bad = acordo(tmp_path, "cadence", "preview", "--date", "tomorrow")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
