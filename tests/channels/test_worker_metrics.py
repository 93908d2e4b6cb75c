"""`acordo worker --metrics-port`: the worker process' own counters, behind the bearer token."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any, cast

import pytest
from typer.testing import CliRunner

from bot.cli.app import app as cli
from bot.clock import SystemClock
from bot.services.metrics import OperationsMetrics, serve_process_metrics


def scrape(port: int, token: str | None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_the_port_serves_this_process_rate_limit_waits_to_the_token_holder() -> None:
    metrics = OperationsMetrics(cast(Any, None), SystemClock())  # the stored facts are never read
    metrics.rate_limit_wait("telegram", 1.5)
    port, stop = serve_process_metrics(metrics, 0, "127.0.0.1", ["metrics-secret", "admin-secret"])
    try:
        assert scrape(port, None)[0] == 401 and scrape(port, "wrong")[0] == 401
        status, text = scrape(port, "admin-secret")
        assert status == 200
        assert 'acordo_rate_limit_waits_total{channel="telegram"} 1.0' in text
        assert 'acordo_rate_limit_wait_seconds_total{channel="telegram"} 1.5' in text
        assert "acordo_outbox_depth" not in text  # stored facts are the app's /metrics
        metrics.rate_limit_wait("telegram", 0.5)
        assert 'acordo_rate_limit_waits_total{channel="telegram"} 2.0' in scrape(port, "metrics-secret")[1]
    finally:
        stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)


def test_without_a_token_every_scrape_is_refused() -> None:
    port, stop = serve_process_metrics(OperationsMetrics(cast(Any, None), SystemClock()), 0, "127.0.0.1")
    try:
        assert scrape(port, "")[0] == 401 and scrape(port, "anything")[0] == 401
    finally:
        stop()


def test_the_worker_command_offers_the_option() -> None:
    result = CliRunner().invoke(cli, ["worker", "--help"])
    assert result.exit_code == 0 and "--metrics-port" in result.output
