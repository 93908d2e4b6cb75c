"""Train the Rasa model only when dialogs/ changed since the last training (content hash)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

TRAINING_INPUTS = ("config.yml", "domain.yml", "data")
MODEL_NAME = "acordo"


def dialogs_hash(dialogs: Path) -> str:
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        root = dialogs / name
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for path in files:
            digest.update(str(path.relative_to(dialogs)).encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def model_path(dialogs: Path) -> Path:
    return dialogs / "models" / f"{MODEL_NAME}.tar.gz"


def _stamp(dialogs: Path) -> Path:
    return dialogs / "models" / f"{MODEL_NAME}.sha256"


def model_is_current(dialogs: Path) -> bool:
    stamp = _stamp(dialogs)
    return (model_path(dialogs).is_file() and stamp.is_file()
            and stamp.read_text().strip() == dialogs_hash(dialogs))


def ensure_model(dialogs: Path, rasa: Path, *, force: bool = False) -> bool:
    """Train when needed. Returns True when a training ran."""
    if not force and model_is_current(dialogs):
        return False
    current = dialogs_hash(dialogs)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
           "ACORDO_ACTION_ENDPOINT_URL": os.environ.get("ACORDO_ACTION_ENDPOINT_URL",
                                                        "http://127.0.0.1:8000/actions/webhook"),
           "ACORDO_ACTION_TOKEN": os.environ.get("ACORDO_ACTION_TOKEN", "unused-at-training")}
    subprocess.run(
        [str(rasa), "train", "--fixed-model-name", MODEL_NAME, "--out", "models"],
        cwd=dialogs, env=env, check=True,
    )
    _stamp(dialogs).write_text(current + "\n")
    return True
