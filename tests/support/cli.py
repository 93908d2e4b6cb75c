"""Running the real `acordo` command (``python -m bot``) in a subprocess on a SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def acordo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"),
           "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=120)
