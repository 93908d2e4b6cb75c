"""`acordo dev` (make run): which host, port, database and tokens it runs with, and the banner."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from bot.config import Settings
from bot.devtools.dev_settings import (
    GENERATED,
    DevSettings,
    DevSettingsError,
    hide_password,
    resolve_dev_settings,
)
from bot.devtools.model import model_is_current

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {"admin": "gen-admin", "rasa": "gen-rasa", "action": "gen-action",
           "link": "gen-link-0123456789"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No ACORDO_* variable set, and a working directory of our own (no stray .env)."""
    for name in list(os.environ):
        if name.upper().startswith("ACORDO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def resolve(port: int | None = None, rasa_port: int | None = None) -> DevSettings:
    return resolve_dev_settings(Settings(), SECRETS, environ=os.environ, port=port, rasa_port=rasa_port)


def test_nothing_set_keeps_the_defaults_and_the_generated_tokens(clean_env: Path) -> None:
    dev = resolve()
    assert (dev.host, dev.port, dev.rasa_port) == ("127.0.0.1", 8000, 5005)
    assert dev.database_url == "sqlite:///var/acordo.db"
    assert (dev.admin_token, dev.rasa_token, dev.action_token) == ("gen-admin", "gen-rasa", "gen-action")
    assert dev.action_url == "http://127.0.0.1:8000/actions/webhook"
    assert dev.sources == {"admin_token": GENERATED, "rasa_token": GENERATED,
                           "action_token": GENERATED, "link_secret": GENERATED}
    assert dev.child_env() == {
        "ACORDO_HOST": "127.0.0.1", "ACORDO_PORT": "8000",
        "ACORDO_DATABASE_URL": "sqlite:///var/acordo.db", "ACORDO_ADMIN_TOKEN": "gen-admin",
        "ACORDO_RASA_URL": "http://127.0.0.1:5005", "ACORDO_RASA_TOKEN": "gen-rasa",
        "ACORDO_ACTION_TOKEN": "gen-action", "ACORDO_LINK_SECRET": "gen-link-0123456789"}


def test_dev_secrets_gain_a_link_secret_and_keep_the_others(tmp_path: Path) -> None:
    from bot.devtools.stack import dev_secrets

    (tmp_path / "dev-secrets.json").write_text(json.dumps({"admin": "a", "rasa": "r", "action": "c"}))
    values = dev_secrets(tmp_path)
    assert (values["admin"], values["rasa"], values["action"]) == ("a", "r", "c")
    assert len(values["link"]) >= 16 and dev_secrets(tmp_path) == values


def test_the_environment_wins_over_dotenv(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (clean_env / ".env").write_text("ACORDO_PORT=7000\nACORDO_ADMIN_TOKEN=from-file\n")
    monkeypatch.setenv("ACORDO_PORT", "8123")
    monkeypatch.setenv("ACORDO_ADMIN_TOKEN", "x")
    monkeypatch.setenv("ACORDO_HOST", "0.0.0.0")
    monkeypatch.setenv("ACORDO_DATABASE_URL", "sqlite:////tmp/other.db")
    dev = resolve()
    assert (dev.host, dev.port, dev.admin_token) == ("0.0.0.0", 8123, "x")
    assert dev.database_url == "sqlite:////tmp/other.db"
    assert dev.sources["port"] == "from ACORDO_PORT"
    assert dev.sources["admin_token"] == "from ACORDO_ADMIN_TOKEN"
    # A wildcard address is reached on loopback: Rasa calls the app there.
    assert dev.app_url == "http://127.0.0.1:8123"
    assert dev.action_url == "http://127.0.0.1:8123/actions/webhook"
    assert dev.child_env()["ACORDO_HOST"] == "0.0.0.0"


def test_dotenv_is_honoured(clean_env: Path) -> None:
    (clean_env / ".env").write_text(
        "ACORDO_PORT=7000\nACORDO_ADMIN_TOKEN=from-file\nACORDO_RASA_URL=http://localhost:5900\n"
        "ACORDO_DATABASE_URL=postgresql://acordo:pw@db.local/acordo\n")
    dev = resolve()
    assert (dev.port, dev.admin_token, dev.rasa_port) == (7000, "from-file", 5900)
    assert dev.database_url == "postgresql://acordo:pw@db.local/acordo"
    assert dev.sources["port"] == "from ACORDO_PORT in .env"
    assert dev.sources["admin_token"] == "from ACORDO_ADMIN_TOKEN in .env"
    assert dev.sources["rasa_port"] == "from ACORDO_RASA_URL in .env"
    assert dev.child_env()["ACORDO_RASA_URL"] == "http://127.0.0.1:5900"


def test_generated_secrets_fill_only_the_gaps(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACORDO_ADMIN_TOKEN", "mine")
    monkeypatch.setenv("ACORDO_ACTION_TOKEN", "")  # empty counts as unset
    dev = resolve()
    assert (dev.admin_token, dev.rasa_token, dev.action_token) == ("mine", "gen-rasa", "gen-action")
    assert dev.sources["admin_token"] == "from ACORDO_ADMIN_TOKEN"
    assert dev.sources["rasa_token"] == dev.sources["action_token"] == GENERATED


def test_command_line_options_win(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACORDO_PORT", "8123")
    monkeypatch.setenv("ACORDO_RASA_URL", "http://127.0.0.1:5900")
    dev = resolve(port=9001, rasa_port=9002)
    assert (dev.port, dev.rasa_port) == (9001, 9002)
    assert dev.sources["port"] == "from --port"
    assert dev.sources["rasa_port"] == "from --rasa-port"


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("ACORDO_RASA_URL", "http://rasa.example.com:5005", "starts its own Rasa"),
    ("ACORDO_RASA_URL", "https://127.0.0.1:5005", "starts its own Rasa"),
    ("ACORDO_PORT", "0", "not a port number"),
    ("ACORDO_PORT", "5005", "cannot both listen on port 5005"),
])
def test_settings_dev_cannot_run_with_are_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                  variable: str, value: str, problem: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(DevSettingsError, match=problem):
        resolve()


def test_banner_shows_the_values_in_force_and_hides_the_database_password(
        clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACORDO_PORT", "8123")
    monkeypatch.setenv("ACORDO_ADMIN_TOKEN", "x")
    monkeypatch.setenv("ACORDO_DATABASE_URL", "postgresql://acordo:s3cr@t@db.local:5432/acordo")
    banner = resolve().banner()
    assert "http://127.0.0.1:8123/chat" in banner
    assert "Authorization: Bearer x" in banner
    assert "port          8123  (from ACORDO_PORT)" in banner
    assert "admin token   x  (from ACORDO_ADMIN_TOKEN)" in banner
    assert "postgresql://acordo:***@db.local:5432/acordo  (from ACORDO_DATABASE_URL)" in banner
    assert "s3cr" not in banner
    assert f"rasa token    ({GENERATED})" in banner


@pytest.mark.parametrize(("url", "shown"), [
    ("sqlite:///var/acordo.db", "sqlite:///var/acordo.db"),
    ("postgresql://u@h/d", "postgresql://u@h/d"),
    ("postgresql+asyncpg://u:p@h:5432/d", "postgresql+asyncpg://u:***@h:5432/d"),
    ("postgresql://h/d?user=u&password=p&sslmode=require",
     "postgresql://h/d?user=u&password=***&sslmode=require"),
])
def test_hide_password(url: str, shown: str) -> None:
    assert hide_password(url) == shown


# The real `python -m bot dev`, as `make run` starts it.

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def processes_mentioning(*words: str) -> list[str]:
    """Command lines of live processes that carry every word as an argument."""
    return [command for _, command in _processes(words)]


def _processes(words: tuple[str, ...]) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if all(word in args for word in words):
            found.append((int(entry.name), " ".join(args)))
    return found


@pytest.mark.e2e
@pytest.mark.timeout(480)
def test_make_run_honours_port_token_and_database_from_the_environment(tmp_path: Path) -> None:
    if not model_is_current(ROOT / "dialogs"):
        pytest.fail("the Rasa model is missing or stale: run `make model` (make test does it first)")
    port, rasa_port = free_port(), free_port()
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("ACORDO_")}
    env.update({
        "ACORDO_PORT": str(port), "ACORDO_ADMIN_TOKEN": "x",
        "ACORDO_DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}",
        "ACORDO_RASA_URL": f"http://127.0.0.1:{rasa_port}", "PYTHONUNBUFFERED": "1",
        "ACORDO_VAR_DIR": str(tmp_path / "var"),  # never the developer's var/
    })
    dev = subprocess.Popen([sys.executable, "-m", "bot", "dev"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    assert dev.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(dev.stdout or ()), daemon=True)
    reader.start()
    app = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"{app}/healthz"):
            assert dev.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "the app did not answer /healthz in 120 s:\n" + "".join(lines)
            time.sleep(0.5)
        debtor = f"{app}/api/v1/debtors/padaria-sol"
        assert httpx.get(debtor, headers={"Authorization": "Bearer x"}).status_code == 200
        assert httpx.get(debtor, headers={"Authorization": "Bearer wrong"}).status_code == 401
        # The app wrote to the database named in the environment.
        assert (tmp_path / "dev.db").stat().st_size > 0

        # The banner waits for Rasa to load its model: slow on a machine whose disk cache is cold.
        deadline = time.monotonic() + 300
        while not any("Press Ctrl-C to stop." in line for line in lines):
            assert dev.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "no banner:\n" + "".join(lines)
            time.sleep(0.5)
        banner = "".join(lines)
        assert f"Chat page:    {app}/chat" in banner
        assert f"port          {port}  (from ACORDO_PORT)" in banner
        assert "admin token   x  (from ACORDO_ADMIN_TOKEN)" in banner
        assert f"Rasa server:  http://127.0.0.1:{rasa_port}" in banner
        # A new portal link per demo debtor, issued with the generated link secret, that opens.
        portal = [line.split()[-1] for line in lines if f"  {app}/p/v1." in line]
        assert "Portal links (one per demo debtor" in banner and len(portal) >= 2, banner
        assert httpx.get(portal[0], timeout=30).status_code == 200
        # A turn through Rasa and back through the action webhook on the app's real port.
        chat = httpx.post(f"{app}/channels/web/messages", headers={"Authorization": "Bearer x"},
                          json={"sender": "financeiro@padariasol.com.br", "text": "quanto eu devo?"},
                          timeout=30)
        assert chat.status_code == 200, chat.text
        assert "NF-1001" in " ".join(reply["text"] for reply in chat.json()["replies"])

        dev.send_signal(signal.SIGINT)
        assert dev.wait(timeout=40) == 0, "".join(lines)
    finally:
        _stop_dev(dev, port, rasa_port)
    reader.join(timeout=5)
    assert "Stopped." in "".join(lines)
    assert not listening(port) and not listening(rasa_port)
    assert processes_mentioning("serve", "--port", str(port)) == []
    assert processes_mentioning("run", "-p", str(rasa_port)) == []


def _stop_dev(dev: subprocess.Popen[str], port: int, rasa_port: int) -> None:
    """Stop `bot dev` the way Ctrl-C does, so it stops its children; if it does not, kill it
    and whatever it started (Rasa and the app run in sessions of their own)."""
    if dev.poll() is None:
        dev.send_signal(signal.SIGTERM)
        try:
            dev.wait(timeout=40)
        except subprocess.TimeoutExpired:
            dev.kill()
            dev.wait()
    for pid, _ in _processes(("serve", "--port", str(port))) + _processes(("run", "-p", str(rasa_port))):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_banner_lists_a_portal_link_per_demo_debtor(clean_env: Path) -> None:
    links = [("Padaria Sol Ltda", "http://127.0.0.1:8000/p/v1.a.b"), ("Beta SA", "http://127.0.0.1:8000/p/v1.c.d")]
    banner = resolve().banner(links)
    assert "Portal links (one per demo debtor" in banner
    assert "  Padaria Sol Ltda  http://127.0.0.1:8000/p/v1.a.b" in banner
    assert "  Beta SA           http://127.0.0.1:8000/p/v1.c.d" in banner
    assert "Portal links: none (ACORDO_LINK_SECRET unset)" in resolve().banner()
