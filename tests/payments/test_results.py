"""The results dashboard on a portfolio with known outcomes: every figure checked exactly,
on SQLite and on PostgreSQL; the page, its CSV exports, the audit view and /metrics."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.policies import load_policies
from bot.services.results.service import ResultsService
from bot.storage import create_engine, migrate, session_factory
from bot.storage import models as db
from bot.storage.payment_repositories import PaymentRepository
from bot.storage.uow import unit_of_work
from tests.conftest import NOW, ROOT
from tests.storage.conftest import BACKENDS, create_postgres_database, drop_postgres_database
from tests.support.known_results import add_portal_use, at, build_portfolio

D = Decimal
COSTS = {"web": D("0.00"), "telegram": D("0.00"), "whatsapp": D("0.40"), "sms": D("0.10")}


@pytest.fixture(params=BACKENDS)
async def known(request: pytest.FixtureRequest, tmp_path: Path
                ) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'results.db'}"
    else:
        url = await create_postgres_database()
    try:
        await migrate(url)
        engine = create_engine(url, clock=FixedClock(NOW))
        sessions = session_factory(engine)
        async with sessions() as session:
            await build_portfolio(session)
        yield sessions
        await engine.dispose()
    finally:
        if request.param != "sqlite":
            await drop_postgres_database(url)


def service(sessions: async_sessionmaker[AsyncSession]) -> ResultsService:
    return ResultsService(unit_of_work(sessions), load_policies(ROOT / "policies"), COSTS, D("60.00"), D("3"),
                          FixedClock(NOW))


EXPECTED_SUMMARY: dict[str, Any] = {
    "debtors": 4, "overdue": D("4100.00"), "recovered": D("1500.00"), "recovery_rate": D("0.3659"),
    "agreements_made": 3, "agreements_kept": 1, "agreements_broken": 1,
    "promises_made": 2, "promises_kept": 1, "promises_broken": 1, "promise_kept_rate": D("0.5000"),
    "avg_days_to_payment": D("10.0"), "resolved_without_human": D("0.3333"),
    "contacts": 7, "contacts_per_real": D("0.0047"), "cost": D("7.30"), "negotiations": 3,
    "cost_per_negotiation": D("2.43"),
}


async def test_every_figure_of_a_known_portfolio(known: async_sessionmaker[AsyncSession]) -> None:
    results = await service(known).compute("demo", date(2026, 11, 1), date(2026, 11, 30))
    assert results.summary == EXPECTED_SUMMARY
    assert results.by_status == [
        {"status": "open", "debts": 2, "amount": D("2500.00"), "outstanding": D("2000.00")},
        {"status": "in_agreement", "debts": 1, "amount": D("800.00"), "outstanding": D("800.00")},
        {"status": "paid", "debts": 1, "amount": D("1000.00"), "outstanding": D("0.00")},
        {"status": "disputed", "debts": 1, "amount": D("300.00"), "outstanding": D("250.00")},
        {"status": "written_off", "debts": 0, "amount": D("0.00"), "outstanding": D("0.00")},
    ]
    assert results.over_time == [
        {"day": "2026-11-15", "recovered": D("1000.00"), "cumulative": D("1000.00"),
         "recovery_rate": D("0.2439")},
        {"day": "2026-11-21", "recovered": D("500.00"), "cumulative": D("1500.00"),
         "recovery_rate": D("0.3659")},
    ]
    early, late = results.by_segment
    assert early == {
        "segment": "early", "debtors": 3, "overdue": D("2100.00"), "recovered": D("1000.00"),
        "recovery_rate": D("0.4762"), "agreements_made": 2, "agreements_kept": 1, "agreements_broken": 0,
        "promises_made": 0, "promises_kept": 0, "promises_broken": 0, "promise_kept_rate": None,
        "avg_days_to_payment": D("4.0"), "resolved_without_human": D("0.5000"), "contacts": 4,
        "contacts_per_real": D("0.0040"), "cost": D("0.10"), "negotiations": 2,
        "cost_per_negotiation": D("0.05")}
    assert late == {
        "segment": "late", "debtors": 1, "overdue": D("2000.00"), "recovered": D("500.00"),
        "recovery_rate": D("0.2500"), "agreements_made": 1, "agreements_kept": 0, "agreements_broken": 1,
        "promises_made": 2, "promises_kept": 1, "promises_broken": 1, "promise_kept_rate": D("0.5000"),
        "avg_days_to_payment": D("16.0"), "resolved_without_human": D("0.0000"), "contacts": 3,
        "contacts_per_real": D("0.0060"), "cost": D("7.20"), "negotiations": 1,
        "cost_per_negotiation": D("7.20")}
    channels = {row["channel"]: row for row in results.by_channel}
    assert list(channels) == ["web", "whatsapp", "sms"]
    assert {k: channels["web"][k] for k in ("debtors", "overdue", "recovered", "agreements_made",
                                            "agreements_kept", "resolved_without_human", "contacts",
                                            "cost", "negotiations")} == {
        "debtors": 2, "overdue": D("1800.00"), "recovered": D("1000.00"), "agreements_made": 2,
        "agreements_kept": 1, "resolved_without_human": D("0.5000"), "contacts": 3, "cost": D("0.00"),
        "negotiations": 2}
    assert (channels["whatsapp"]["contacts"], channels["whatsapp"]["cost"]) == (3, D("7.20"))
    assert (channels["sms"]["contacts"], channels["sms"]["cost"], channels["sms"]["recovered"]) == (
        1, D("0.10"), D("0.00"))
    # Outcomes by the régua's last touch before them: A's agreement and payment follow
    # overdue_first v2 (web, 11-11), B's follow overdue_first before the edit (whatsapp, 11-05);
    # D's agreement follows no cadence message.
    assert results.by_step == [
        {"step": "gentle #2 (day +1)", "contacts": 3, "cost": D("0.50"), "payments": 2,
         "recovered": D("1500.00"), "agreements_made": 2, "contacts_per_real": D("0.0020")},
        {"step": "(not in a cadence)", "contacts": 4, "cost": D("6.80"), "payments": 0,
         "recovered": D("0.00"), "agreements_made": 1, "contacts_per_real": None},
    ]
    assert {r["template_version"]: (r["contacts"], r["cost"], r["payments"], r["recovered"],
                                    r["agreements_made"]) for r in results.by_template_version} == {
        "overdue_first file": (1, D("0.40"), 1, D("500.00"), 1),
        "overdue_first v2": (2, D("0.10"), 1, D("1000.00"), 1),
        "offer_installments file": (1, D("0.00"), 0, D("0.00"), 0),
        "(agent) file": (2, D("6.80"), 0, D("0.00"), 0),
        "offer_full_payment file": (1, D("0.00"), 0, D("0.00"), 0),
        "(not in a cadence)": (0, D("0.00"), 0, D("0.00"), 1)}


async def test_an_empty_period_has_no_ratios(known: async_sessionmaker[AsyncSession]) -> None:
    results = await service(known).compute("demo", date(2025, 1, 1), date(2025, 1, 31))
    summary = results.summary
    assert summary["recovered"] == D("0.00") and summary["recovery_rate"] is None
    assert summary["contacts"] == 0 and summary["cost_per_negotiation"] is None
    assert results.over_time == [] and results.by_step == []


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_results_page_csv_audit_and_metrics_through_the_app(desk: Any) -> None:
    """Admins only; every table exports as CSV; the audit view lists a debtor's history in order."""
    from bot.conversation import commands as cmd
    from tests.web.conftest import PASSWORD, login

    container = desk.container
    await container.staff.add_user("carla", "admin", PASSWORD)
    await container.staff.add_user("alice", "agent", PASSWORD)
    conversation = await desk.debtor()
    await desk.agree(conversation, installments=2)
    await desk.pay(debt_external_id="NF-acme", amount="100.00", paid_at="2026-11-26T09:00:00-03:00")
    # ACORDO_PUBLIC_URL is https: the session cookie is Secure.
    https = httpx.AsyncClient(transport=desk.http._transport, base_url="https://test")
    anonymous = await https.get("/admin/results", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await login(https, "alice", PASSWORD)
    assert (await https.get("/admin/results")).status_code == 403
    https.cookies.clear()
    assert (await login(https, "carla", PASSWORD)).status_code == 303
    desk.http = https
    page = await desk.http.get("/admin/results?start=2026-11-01&end=2026-11-30")
    # The staff pages' default language: pt-BR, with Brazilian formats.
    assert page.status_code == 200 and "<svg" in page.text and "Taxa de recuperação" in page.text
    assert "R$ 100,00" in page.text
    for table in ("summary", "status", "over_time", "segment", "channel", "step", "template_version"):
        response = await desk.http.get(f"/admin/results.csv?table={table}&start=2026-11-01&end=2026-11-30")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        if table == "summary":
            [row] = read_csv(response.text)
            assert row["recovered"] == "100.00" and row["agreements_made"] == "1"
    assert (await desk.http.get("/admin/results.csv?table=nope")).status_code == 404
    audit = await desk.http.get("/admin/debtors/acme/audit")
    assert audit.status_code == 200 and 'data-kind="agreement_created">Acordo fechado' in audit.text
    rows = read_csv((await desk.http.get("/admin/debtors/acme/audit?format=csv")).text)
    kinds = [r["kind"] for r in rows]
    assert {"offer", "agreement", "agreement_created", "payment", "payment_recorded"} <= set(kinds)
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    from tests.payments.conftest import ADMIN

    turn = await desk.http.post("/channels/web/messages", json={"sender": "fin@acme.example", "text": "oi"},
                                headers=ADMIN)
    assert turn.status_code == 200
    await desk.say(conversation, cmd.HandOffToAgent(intent="request_human"))

    metrics = (await desk.http.get("/metrics", headers=ADMIN)).text
    assert "acordo_handoffs_waiting 1.0" in metrics
    assert "acordo_turn_seconds_bucket" in metrics and "acordo_outbox_depth" in metrics
    assert "acordo_rasa_errors_total 0.0" in metrics and "acordo_provider_errors" in metrics
    assert 'acordo_messages{channel="web",direction="in",status="processed"} 1.0' in metrics
    await https.aclose()


async def test_an_overpaid_debt_owes_nothing_not_a_negative_amount(
        known: async_sessionmaker[AsyncSession]) -> None:
    from sqlalchemy import select

    async with known() as session:
        debt = (await session.scalars(select(db.Debt).where(db.Debt.status == "open")
                                      .order_by(db.Debt.id))).first()
        assert debt is not None
        await PaymentRepository(session).record(debt, D("9999999999.99"), at(20))
        await session.commit()
    results = await service(known).compute("demo", date(2026, 11, 1), date(2026, 11, 30))
    assert all(row["outstanding"] >= 0 for row in results.by_status), results.by_status
    assert {r["status"]: r["outstanding"] for r in results.by_status}["paid"] == D("0.00")


async def test_an_agreement_made_on_the_portal_counts_as_resolved_without_a_human(
        known: async_sessionmaker[AsyncSession]) -> None:
    """Debtor A's agreement (the bot's, no hand-off) made on the portal page instead."""
    async with known() as session:
        await session.execute(update(db.Agreement).where(db.Agreement.created_by == "bot")
                              .values(created_by="portal"))
        await session.commit()
    results = await service(known).compute("demo", date(2026, 11, 1), date(2026, 11, 30))
    assert results.summary["resolved_without_human"] == D("0.3333")


async def test_the_portal_is_counted_as_a_channel(known: async_sessionmaker[AsyncSession]) -> None:
    async with known() as session:
        await add_portal_use(session)
    results = await service(known).compute("demo", date(2026, 11, 1), date(2026, 11, 30))
    assert results.portal == {
        "portal_agreements": 2, "portal_agreed": D("1800.00"), "portal_without_human": D("0.5000"),
        "avg_days_visit_to_agreement": D("1.8"),  # (2.0 + 1.5) / 2
        "portal_visitors": 2, "portal_links_issued": 2}
    assert results.tables()["portal"] == [results.portal]
    assert results.summary["resolved_without_human"] == D("0.3333")  # A's only, as before
    october = await service(known).compute("demo", date(2026, 10, 1), date(2026, 10, 31))
    assert october.portal == {
        "portal_agreements": 0, "portal_agreed": D("0.00"), "portal_without_human": None,
        "avg_days_visit_to_agreement": None, "portal_visitors": 1, "portal_links_issued": 1}
