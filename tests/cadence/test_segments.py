"""Segment membership: a policy plans whatever its segments look like (one segment, no ``when``),
and the régua and the dashboard put a debtor in the same segment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cadence.service import CadenceService
from bot.clock import FixedClock, SystemClock
from bot.policies import load_policies
from bot.rendering.renderer import TemplateRenderer
from bot.schemas import PortfolioIn
from bot.services.portfolio import PortfolioService
from bot.storage.uow import unit_of_work
from tests.cadence.conftest import EARLY, MONDAY, ROOT, debtor
from tests.support.policy_samples import ONE_SEGMENT

DUE_SUNDAY = date(2026, 12, 6)


def one_segment_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "one.yaml").write_text(ONE_SEGMENT, encoding="utf-8")
    return folder


async def test_a_policy_with_one_segment_and_no_when_plans(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    policies = load_policies(one_segment_dir(tmp_path))
    clock = FixedClock(EARLY)
    portfolio = PortfolioService(unit_of_work(sessions), policies, clock)
    await portfolio.ensure_creditors()
    payload = {"creditor": "one", "debtors": [
        debtor("d1", [("N1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")])]}
    await portfolio.import_portfolio(PortfolioIn.model_validate(payload))
    renderer = TemplateRenderer(ROOT / "templates")
    cadence = CadenceService(unit_of_work(sessions), policies, renderer, clock, {"whatsapp", "sms"})
    preview = await cadence.preview(MONDAY, "one")
    assert [(p.debt, p.segment, p.cadence, p.step, p.channel) for p in preview.planned] == [
        ("N1", "all", "basic", 1, "whatsapp")
    ]
    assert preview.skipped == []


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def cli_database(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cli.db'}"
        return
    from tests.storage.conftest import create_postgres_database, drop_postgres_database

    url = await create_postgres_database()
    try:
        yield url
    finally:
        await drop_postgres_database(url)


def test_cli_preview_of_a_one_segment_policy(tmp_path: Path, cli_database: str) -> None:
    folder = one_segment_dir(tmp_path)
    env = {**os.environ, "ACORDO_DATABASE_URL": cli_database, "ACORDO_POLICIES_DIR": str(folder),
           "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"), "ACORDO_TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
           "ACORDO_TWILIO_AUTH_TOKEN": "x", "ACORDO_TWILIO_API_URL": "http://127.0.0.1:9",
           "ACORDO_TWILIO_WHATSAPP_FROM": "+5511900000000", "ACORDO_TWILIO_SMS_FROM": "+5511900000000"}

    def acordo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120)

    # The CLI reads the real clock: preview a Monday at least a week ahead (a preview of today
    # plans only what is still sendable after now, nothing at night), the debt due the day before.
    today = SystemClock().now().astimezone(ZoneInfo("America/Sao_Paulo")).date()
    monday = today + timedelta(days=7 + (7 - today.weekday()) % 7)
    portfolio = tmp_path / "portfolio.json"
    portfolio.write_text(json.dumps({"creditor": "one", "debtors": [
        debtor("d1", [("N1", "1000.00", monday - timedelta(days=1))], [("whatsapp", "+5511900000001")])]}),
        encoding="utf-8")
    assert acordo("policies", "check", str(folder)).returncode == 0
    imported = acordo("import", str(portfolio))
    assert imported.returncode == 0, imported.stderr
    result = acordo("cadence", "preview", "--date", monday.isoformat(), "--creditor", "one", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    preview = json.loads(result.stdout)
    assert [(p["debt"], p["step"], p["channel"]) for p in preview["planned"]] == [("N1", 1, "whatsapp")]


HISTORY_SEGMENTS = """
version: 1
creditor: {name: "Uma Credora Ltda", tax_id: "11.222.333/0001-81", timezone: "America/Sao_Paulo"}
segments:
  - {name: slow, when: {past_days_late: {min: 10}}, negotiation: tight, cadence: basic}
  - {name: repeat, when: {broken_promises: {min: 1}}, negotiation: tight, cadence: basic}
  - {name: big, when: {amount: {min: "50000.00"}}, negotiation: tight, cadence: basic}
  - {name: small, when: {balance: {max: "100.00"}}, negotiation: tight, cadence: basic}
  - {name: early, when: {days_past_due: {min: 0, max: 30}}, negotiation: tight, cadence: basic}
  - {name: rest, negotiation: tight, cadence: basic}
negotiation:
  tight: {full_payment_discount_max_percent: 5, installments_max: 6, installment_min_amount: "100.00",
          down_payment_min_percent: 10, monthly_interest_percent: 1, first_due_within_days: 10, max_rounds: 4}
cadence:
  basic:
    - {day: 1, template: overdue_first, channels: [whatsapp]}
    - {day: 30, template: overdue_offer, channels: [whatsapp]}
"""


async def test_the_dashboard_puts_each_debtor_in_the_regua_segment(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    """Amount, broken promises and past days late count on the dashboard as in the régua."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from sqlalchemy import insert, select

    from bot.services.results.service import ResultsService
    from bot.storage import models as db
    from bot.storage.payment_models import Promise
    from bot.storage.payment_repositories import PaymentRepository
    from bot.storage.repositories.portfolio import PortfolioRepository

    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "one.yaml").write_text(HISTORY_SEGMENTS, encoding="utf-8")
    policies = load_policies(folder)
    clock = FixedClock(EARLY)
    portfolio = PortfolioService(unit_of_work(sessions), policies, clock)
    await portfolio.ensure_creditors()
    old = date(2026, 10, 1)
    people = [
        debtor("slow", [("SLOW-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]),
        debtor("repeat", [("REP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000002")]),
        debtor("big", [("BIG-1", "60000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000003")]),
        debtor("small", [("SMALL-1", "80.00", DUE_SUNDAY)], [("whatsapp", "+5511900000004")]),
        debtor("early", [("EARLY-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000005")]),
        debtor("rest", [("REST-1", "1000.00", old)], [("whatsapp", "+5511900000006")]),
    ]
    await portfolio.import_portfolio(PortfolioIn.model_validate({"creditor": "one", "debtors": people}))
    async with sessions() as session:
        rows = await session.execute(select(db.Debtor).where(db.Debtor.external_id.in_(["slow", "repeat"])))
        by_name = {row.external_id: row for row in rows.scalars()}
        # "slow" paid an earlier invoice 19 days late; "repeat" broke a promise in November.
        slow = await PortfolioRepository(session).upsert_debt(by_name["slow"], "SLOW-0", "500.00", "BRL", old)
        await PaymentRepository(session).record(slow, "500.00", datetime(2026, 10, 20, 15, 0, tzinfo=UTC))
        await session.execute(insert(Promise).values(
            debtor_id=by_name["repeat"].id, promised_date=date(2026, 11, 20), balance=Decimal("1000.00"),
            status="broken", created_at=EARLY))
        await session.commit()

    renderer = TemplateRenderer(ROOT / "templates")
    cadence = CadenceService(unit_of_work(sessions), policies, renderer, clock, {"whatsapp"})
    preview = await cadence.preview(MONDAY, "one")
    regua = {row.debtor: row.segment for row in [*preview.planned, *preview.skipped]}
    assert regua == {name: name for name in ("slow", "repeat", "big", "small", "early", "rest")}

    dashboard = ResultsService(unit_of_work(sessions), policies, {"whatsapp": Decimal("0.40")},
                               Decimal("60"), Decimal("3"), clock)
    results = await dashboard.compute("one", date(2026, 12, 1), MONDAY)
    assert {row["segment"]: row["debtors"] for row in results.by_segment} == {
        name: 1 for name in ("slow", "repeat", "big", "small", "early", "rest")}

