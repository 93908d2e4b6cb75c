"""What a suite needs from the machine, and what happens when it is missing.

``need(resource)`` skips the test with one line saying what to install or start, or, when
``ACORDO_REQUIRE_ALL=1`` (``.ci/run`` sets it), fails it: on CI a missing Chromium,
PostgreSQL or Redis is a broken machine, not a reason to pass. The session ends with a short
summary of every skip, grouped by reason (``pytest_terminal_summary``).
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def require_all() -> bool:
    return os.environ.get("ACORDO_REQUIRE_ALL", "") not in ("", "0", "false", "no")


@dataclass(frozen=True)
class Resource:
    name: str
    hint: str  # what to install or start

    def line(self) -> str:
        return f"{self.name} is not available: {self.hint}"


def chromium_path() -> str:
    return shutil.which("chromium") or "/usr/bin/chromium"


def browser_env() -> dict[str, str]:
    """The environment to start Chromium with: ours, without libfaketime. The browser stands
    for the debtor's or agent's own machine, whose clock is not the server's; under libfaketime
    Chromium's crash handler fails its clock reads and the browser does not start."""
    return {key: value for key, value in os.environ.items()
            if key != "LD_PRELOAD" and not key.startswith("FAKETIME")}


def postgres_server_url() -> str:
    """The maintenance database the test databases are created from."""
    return os.environ.get("ACORDO_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def redis_url() -> str:
    return os.environ.get("ACORDO_TEST_REDIS_URL", DEFAULT_REDIS_URL)


@functools.cache
def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def missing(resource: str) -> Resource | None:
    """``None`` when ``resource`` is there; else what is missing and how to get it."""
    if resource == "chromium":
        if Path(chromium_path()).is_file():
            return None
        return Resource("Chromium", "install Debian's chromium (apt-get install chromium; .ci/run does)")
    if resource == "postgresql":
        url = postgres_server_url()
        if os.environ.get("ACORDO_TEST_SKIP_POSTGRES") == "1":
            return Resource("PostgreSQL", "ACORDO_TEST_SKIP_POSTGRES=1 is set")
        parsed = make_url(url)
        if _listening(parsed.host or "127.0.0.1", parsed.port or 5432):
            return None
        shown = parsed.render_as_string(hide_password=True)
        return Resource("PostgreSQL", f"start the server at {shown} (trust auth, database "
                                      "'test') or point ACORDO_TEST_POSTGRES_URL at one")
    if resource == "redis":
        parsed = make_url(redis_url())
        if _listening(parsed.host or "127.0.0.1", parsed.port or 6379):
            return None
        return Resource("Redis", f"start redis-server on {parsed.host}:{parsed.port or 6379} "
                                 "or point ACORDO_TEST_REDIS_URL at one")
    if resource == "dovecot":
        from tests.support.imap import dovecot_path

        if dovecot_path() is not None:
            return None
        return Resource("Dovecot", "install Debian's dovecot-imapd (apt-get install dovecot-imapd; "
                                   ".ci/run does)")
    if resource == "axe":
        from tests.support.axe import axe_script

        if axe_script() is not None:
            return None
        return Resource("axe-core", "run `make axe` (npm installs the pinned axe-core into var/node)")
    raise ValueError(f"unknown test resource {resource!r}")


def need(resource: str) -> None:
    """Go on when ``resource`` is available; otherwise skip, or fail under ACORDO_REQUIRE_ALL=1."""
    absent = missing(resource)
    if absent is None:
        return
    if require_all():
        pytest.fail(f"{absent.line()} (ACORDO_REQUIRE_ALL=1: a missing resource is a failure)",
                    pytrace=False)
    pytest.skip(absent.line())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per reason something was skipped, with how many tests it took."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    if not reasons:
        return
    terminalreporter.section("skipped, and why")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count:4d} × {reason}")
    if not require_all():
        terminalreporter.write_line("(ACORDO_REQUIRE_ALL=1 turns a missing Chromium, PostgreSQL or "
                                    "Redis into a failure, as on CI)")
