"""The requirements plugin: a missing resource skips with one line, fails under
ACORDO_REQUIRE_ALL=1, and the run ends with a summary of the skips."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INNER = """
import tests.support.requirements as requirements

def test_needs_a_browser(monkeypatch):
    monkeypatch.setattr(requirements, "chromium_path", lambda: "/nonexistent/chromium")
    requirements.need("chromium")

def test_needs_nothing():
    pass
"""


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_inner=INNER)
    pytester.makeconftest('pytest_plugins = ["tests.support.requirements"]')
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester


def test_a_missing_resource_skips_with_what_to_install_and_a_summary(
        inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACORDO_REQUIRE_ALL", raising=False)
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*skipped, and why*",
        "*1 × Chromium is not available: install Debian's chromium (apt-get install chromium*",
    ])


def test_under_require_all_a_missing_resource_is_a_failure(
        inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACORDO_REQUIRE_ALL", "1")
    result = inner.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Chromium is not available*ACORDO_REQUIRE_ALL=1*"])
