"""Start the local stack: the Rasa server and the Acordo app, as child processes.

Used by ``make run`` (through ``acordo dev``), by the end-to-end tests and by
the benchmarks, so that all three run the same processes the same way.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bot.config import http_host


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def _spawn(name: str, args: list[str], cwd: Path, env: dict[str, str], log: Path) -> Child:
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("ab")
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=handle, stderr=subprocess.STDOUT,
                               start_new_session=True)
    handle.close()
    return Child(name, process, log)


def wait_until(check_url: str, child: Child, timeout: float, params: dict[str, str] | None = None,
               expect_key: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            tail = child.log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{child.name} exited with {child.process.returncode}:\n{tail}")
        try:
            response = httpx.get(check_url, params=params, timeout=2.0)
            if response.status_code == 200 and (expect_key is None
                                                or response.json().get(expect_key)):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{child.name} not ready at {check_url} after {timeout:.0f}s (log: {child.log})")


def start_rasa(root: Path, *, port: int, token: str, action_url: str, action_token: str,
               log: Path, timeout: float = 300.0, wait: bool = True) -> Child:
    dialogs = root / "dialogs"
    rasa = root / ".venv-rasa" / "bin" / "rasa"
    env = {**_real_clock_env(), "TF_CPP_MIN_LOG_LEVEL": "2", "ACORDO_ACTION_ENDPOINT_URL": action_url,
           "ACORDO_ACTION_TOKEN": action_token, "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    child = _spawn("rasa", [
        str(rasa), "run", "--enable-api", "--auth-token", token, "-i", "127.0.0.1",
        "-p", str(port), "--model", "models/acordo.tar.gz", "--endpoints", "endpoints.yml",
        "--credentials", "credentials.yml",
    ], dialogs, env, log)
    if wait:
        _stop_unless_ready(child, lambda: wait_for_rasa(child, port, token, timeout))
    return child


def _real_clock_env() -> dict[str, str]:
    """Our environment without libfaketime (``make test-anytime``): Rasa keeps the real clock.

    TensorFlow's thread pools wait with absolute deadlines on the real-time clock; under
    libfaketime those deadlines lie months away, and loading the model hung now and then.
    Rasa is a separate service whose clock is not ours: the app never reads Rasa's timestamps.
    """
    return {key: value for key, value in os.environ.items()
            if key != "LD_PRELOAD" and not key.startswith("FAKETIME")}


def wait_for_rasa(child: Child, port: int, token: str, timeout: float = 300.0) -> None:
    """Until Rasa's /status names a loaded model."""
    wait_until(f"http://127.0.0.1:{port}/status", child, timeout, {"token": token}, "model_file")


def start_app(root: Path, *, port: int, env: dict[str, str], log: Path,
              host: str = "127.0.0.1", timeout: float = 60.0) -> Child:
    args = [sys.executable, "-m", "bot", "serve", "--host", host, "--port", str(port)]
    child = _spawn("app", args, root, {**os.environ, **env}, log)
    _stop_unless_ready(child, lambda: wait_until(f"http://{http_host(host)}:{port}/healthz",
                                                  child, timeout))
    return child


def _stop_unless_ready(child: Child, wait: Callable[[], None]) -> None:
    """Wait for the child; if it never answers (or we are interrupted), leave no process behind."""
    try:
        wait()
    except BaseException:
        child.stop()
        raise


def dev_secrets(var: Path) -> dict[str, str]:
    """Tokens for the local stack, generated once and kept in var/dev-secrets.json."""
    path = var / "dev-secrets.json"
    values: dict[str, str] = dict(json.loads(path.read_text())) if path.is_file() else {}
    missing = [name for name in ("admin", "rasa", "action", "link") if name not in values]
    if not missing:
        return values
    var.mkdir(parents=True, exist_ok=True)
    values.update({name: secrets.token_urlsafe(24) for name in missing})  # a file from before "link"
    path.write_text(json.dumps(values, indent=2))
    path.chmod(0o600)
    return values
