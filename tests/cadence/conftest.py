"""Fixtures of the régua tests: a test creditor policy, the cadence service, a small portfolio.

The database fixtures come from tests/storage (every test runs on SQLite and PostgreSQL).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.cadence.service import CadenceService
from bot.clock import FixedClock
from bot.policies import PolicyBook, load_policies
from bot.rendering.renderer import TemplateRenderer
from bot.schemas import PortfolioIn
from bot.services.portfolio import PortfolioService
from bot.storage import create_engine, migrate, session_factory
from bot.storage import models as db
from bot.storage.uow import unit_of_work
from tests.storage.conftest import (  # noqa: F401  (fixtures)
    database_url,
    engine,
    postgres_url,
    sessions,
    sqlite_url,
)

ROOT = Path(__file__).resolve().parents[2]
CNPJ = "52.601.815/9083-69"
POLICY = """
version: 1
creditor: {name: "Acme Credora Ltda", tax_id: "11.222.333/0001-81", timezone: "America/Sao_Paulo"}
segments:
  - {name: repeat, when: {broken_promises: {min: 1}}, negotiation: std, cadence: firm}
  - {name: big, when: {amount: {min: "50000.00"}}, negotiation: std, cadence: firm}
  - {name: early, when: {days_past_due: {max: 30}}, negotiation: std, cadence: gentle}
  - {name: late, negotiation: std, cadence: firm}
negotiation:
  std: {full_payment_discount_max_percent: 5, installments_max: 6, installment_min_amount: "100.00",
        down_payment_min_percent: 10, monthly_interest_percent: 1, first_due_within_days: 10, max_rounds: 4}
cadence:
  gentle:
    - {day: -3, template: reminder_upcoming, channels: [whatsapp, sms]}
    - {day: 1, template: overdue_first, channels: [whatsapp, sms, web]}
    - {day: 7, template: overdue_offer, channels: [sms, whatsapp], offer_negotiation: true}
  firm:
    - {day: 1, template: overdue_first, channels: [telegram, whatsapp, sms]}
    - {day: 10, template: overdue_offer, channels: [whatsapp, sms]}
contact_rules:
  hours: {mon-fri: "08:00-20:00", sat: "08:00-14:00"}
  holidays: BR
  max_contacts: {per_day: 1, per_7_days: 2}
  closed_dates: ["2026-12-24"]
  already_paid_pause_days: 3
"""
@contextlib.asynccontextmanager
async def postgres_portfolio(
    policies: PolicyBook, clock: FixedClock, debtors: Sequence[dict[str, Any]]
) -> AsyncIterator[tuple[str, async_sessionmaker[AsyncSession], PortfolioService]]:
    """A new migrated PostgreSQL database holding creditor ``acme`` with these debtors: its URL,
    sessions and portfolio service; the engine is disposed and the database dropped at exit."""
    from tests.storage.conftest import create_postgres_database, drop_postgres_database

    url = await create_postgres_database()
    try:
        await migrate(url)
        engine = create_engine(url, clock=clock)
        try:
            sessions = session_factory(engine)
            portfolio = PortfolioService(unit_of_work(sessions), policies, clock)
            await portfolio.ensure_creditors()
            await portfolio.import_portfolio(PortfolioIn.model_validate(
                {"creditor": "acme", "debtors": list(debtors)}))
            yield url, sessions, portfolio
        finally:
            await engine.dispose()
    finally:
        await drop_postgres_database(url)


# Monday 2026-12-07, 05:00 in São Paulo.
MONDAY = date(2026, 12, 7)
EARLY = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def policies(tmp_path_factory: pytest.TempPathFactory) -> PolicyBook:
    folder = tmp_path_factory.mktemp("policies")
    (folder / "acme.yaml").write_text(POLICY, encoding="utf-8")
    return load_policies(folder)


@dataclass
class Env:
    sessions: async_sessionmaker[AsyncSession]
    policies: PolicyBook
    clock: FixedClock
    cadence: CadenceService
    portfolio: PortfolioService

    async def load(self, *debtors: dict[str, Any]) -> None:
        report = await self.portfolio.import_portfolio(
            PortfolioIn.model_validate({"creditor": "acme", "debtors": list(debtors)})
        )
        assert not report.rejected, report.rejected

    async def debt(self, external_id: str) -> db.Debt:
        async with self.sessions() as session:
            from sqlalchemy import select

            found = await session.scalar(select(db.Debt).where(db.Debt.external_id == external_id))
            assert found is not None
            return found

    async def set_debt(self, external_id: str, **values: Any) -> None:
        async with self.sessions() as session:
            await session.execute(update(db.Debt).where(db.Debt.external_id == external_id).values(**values))
            await session.commit()

    async def set_contact(self, address: str, **values: Any) -> None:
        async with self.sessions() as session:
            await session.execute(update(db.Contact).where(db.Contact.address == address).values(**values))
            await session.commit()


def debtor(
    external_id: str,
    debts: Sequence[tuple[str, str, date]],
    contacts: Sequence[tuple[str, str]] = (),
    timezone: str = "America/Sao_Paulo",
    contact_timezone: str | None = None,
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "name": f"Empresa {external_id}",
        "tax_id": CNPJ,
        "timezone": timezone,
        "contacts": [
            {
                "name": f"Pessoa {external_id}",
                "channel": channel,
                "address": address,
                "timezone": contact_timezone,
            }
            for channel, address in contacts
        ],
        "debts": [
            {"external_id": ext, "amount": amount, "due_date": due.isoformat()} for ext, amount, due in debts
        ],
    }


@pytest.fixture
async def env(sessions: async_sessionmaker[AsyncSession], policies: PolicyBook) -> Env:  # noqa: F811
    clock = FixedClock(EARLY)
    renderer = TemplateRenderer(ROOT / "templates")
    cadence = CadenceService(unit_of_work(sessions), policies, renderer, clock,
                             {"web", "telegram", "whatsapp", "sms"})
    portfolio = PortfolioService(unit_of_work(sessions), policies, clock)
    await portfolio.ensure_creditors()
    return Env(sessions, policies, clock, cadence, portfolio)


ZERO = Decimal("0")
