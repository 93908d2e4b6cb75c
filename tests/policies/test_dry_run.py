"""`acordo policies check` runs each policy's régua statement and dashboard segments against
an empty in-memory database: a policy the planner cannot run is refused at check time."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import case, literal
from typer.testing import CliRunner

from bot.cadence import plan
from bot.cadence.dry_run import dry_run
from bot.cli.app import app
from bot.policies import load_policies
from bot.policies.models import Policy, Segment
from bot.policies.segments import bounds
from bot.services.segment_sql import FactColumns, bound_sql
from tests.support.policy_samples import ONE_SEGMENT, policies

# Generated policies per run (make check runs a few; ACORDO_DRY_RUN_EXAMPLES overrides).
EXAMPLES = int(os.environ.get("ACORDO_DRY_RUN_EXAMPLES", "40"))

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 12, 7)


def test_the_shipped_and_a_one_segment_policy_plan(tmp_path: Path) -> None:
    (tmp_path / "one.yaml").write_text(ONE_SEGMENT, encoding="utf-8")
    for folder in (ROOT / "policies", tmp_path):
        for policy in load_policies(folder).values():
            assert dry_run(policy, DAY) == []


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy=policies())
def test_every_generated_policy_plans(policy: Policy) -> None:
    assert dry_run(policy, DAY) == []


def pre_fix_case(segments: Sequence[Segment], columns: FactColumns, attribute: str = "name") -> Any:
    """The planner's segment ``CASE`` as it was built before the fix (no ``WHEN`` for a policy
    whose only segment has no ``when``): the fault the check must catch."""
    branches = [(bound_sql(b, columns), getattr(s, attribute)) for s in segments
                if s.when is not None for b in bounds(s.when)[:1]]
    return case(*branches, else_=literal(getattr(segments[-1], attribute)))


@pytest.fixture
def broken_planner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "first_segment_sql", pre_fix_case)


def test_a_policy_the_planner_cannot_run_is_refused(tmp_path: Path, broken_planner: None) -> None:
    (tmp_path / "one.yaml").write_text(ONE_SEGMENT, encoding="utf-8")
    policy = load_policies(tmp_path)["one"]
    problems = dry_run(policy, DAY)
    assert len(problems) == 1 and problems[0].startswith("the régua's plan cannot run: ")
    assert "ELSE" in problems[0] and "SELECT" not in problems[0]  # the database's words, not the SQL

    result = CliRunner().invoke(app, ["policies", "check", str(tmp_path)])
    assert result.exit_code == 1
    assert "one: the régua's plan cannot run:" in result.output
