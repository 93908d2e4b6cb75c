"""Set-wise portfolio upserts keep the one-by-one rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.policies import load_policies
from bot.schemas import ImportReport, PortfolioIn
from bot.services.portfolio import PortfolioService
from bot.services.portfolio_files import iter_portfolio
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


def debtor(external_id: str, address: str, *debts: str, amount: str = "100.00") -> dict[str, object]:
    return {"external_id": external_id, "name": external_id.title(), "tax_id": CNPJ,
            "contacts": [{"name": "Ana", "channel": "whatsapp", "address": address,
                          "timezone": "America/Manaus"}],
            "debts": [{"external_id": d, "amount": amount, "due_date": "2026-11-01"} for d in debts]}


async def service(sessions: async_sessionmaker[AsyncSession]) -> PortfolioService:  # noqa: F811
    portfolio = PortfolioService(unit_of_work(sessions), load_policies(ROOT / "policies"),
                                 FixedClock(datetime(2026, 12, 1, tzinfo=UTC)))
    await portfolio.ensure_creditors()
    return portfolio


async def test_reimport_updates_and_keeps_opt_outs_and_payments(
        sessions: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    portfolio = await service(sessions)
    body = {"creditor": "demo", "debtors": [debtor("acme", "+5511900000001", "A-1", "A-2")]}
    first = await portfolio.import_portfolio(PortfolioIn.model_validate(body))
    assert (first.debtors, first.contacts, first.debts, first.rejected) == (1, 1, 2, [])
    async with sessions() as session:
        await session.execute(update(db.Contact).values(status="opted_out"))
        await session.execute(update(db.Debt).where(db.Debt.external_id == "A-1")
                              .values(paid_amount=Decimal("40.00")))
        await session.commit()
    body["debtors"] = [debtor("acme", "+5511900000001", "A-1", "A-2", amount="150.00")]
    await portfolio.import_portfolio(PortfolioIn.model_validate(body))
    async with sessions() as session:
        contact = await session.scalar(select(db.Contact))
        debts = list(await session.scalars(select(db.Debt).order_by(db.Debt.external_id)))
    assert contact is not None and contact.status == "opted_out" and contact.timezone == "America/Manaus"
    assert [(d.amount, d.paid_amount) for d in debts] == [(Decimal("150.00"), Decimal("40.00")),
                                                          (Decimal("150.00"), Decimal("0.00"))]


async def test_a_debtor_claiming_anothers_address_is_rejected_whole(
        sessions: async_sessionmaker[AsyncSession]) -> None:  # noqa: F811
    portfolio = await service(sessions)
    await portfolio.import_portfolio(PortfolioIn.model_validate(
        {"creditor": "demo", "debtors": [debtor("acme", "+5511900000001", "A-1")]}))
    report = await portfolio.import_portfolio(PortfolioIn.model_validate({"creditor": "demo", "debtors": [
        debtor("intruder", "+5511900000001", "I-1"), debtor("fine", "+5511900000002", "F-1"),
        debtor("twin", "+5511900000002", "T-1")]}))
    assert (report.debtors, report.debts) == (1, 1)
    assert [(r.row, r.field) for r in report.rejected] == [(0, "contacts.address"), (2, "contacts.address")]
    async with sessions() as session:
        names = set(await session.scalars(select(db.Debtor.external_id)))
    assert names == {"acme", "fine"}


async def test_csv_chunks_merge_a_debtor_split_across_chunks(
        sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> None:  # noqa: F811
    portfolio = await service(sessions)
    header = ("debtor_external_id,debtor_name,debtor_tax_id,contact_channel,contact_address,contact_timezone,"
              "debt_external_id,amount,due_date\n")
    rows = [f"acme,Acme,{CNPJ},sms,+55119000000{i:02d},America/Noronha,NF-{i},10.00,2026-11-01"
            for i in range(5)]
    rows.insert(2, f"other,Other,{CNPJ},,,,,,")
    rows.append(f"bad,Bad,{CNPJ},,,,NF-X,ten,2026-11-01")
    path = tmp_path / "p.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    creditor, chunks = iter_portfolio(path, "demo", chunk_rows=2)
    report = ImportReport(creditor=creditor)
    for chunk in chunks:
        report.rejected.extend(chunk.rejected)
        await portfolio.import_batch(creditor, chunk.items, report)
    assert [(r.row, r.field) for r in report.rejected] == [(8, "amount")]
    async with sessions() as session:
        acme = await session.scalar(select(db.Debtor).where(db.Debtor.external_id == "acme"))
        assert acme is not None
        contacts = list(await session.scalars(select(db.Contact).where(db.Contact.debtor_id == acme.id)))
        debts = list(await session.scalars(select(db.Debt).where(db.Debt.debtor_id == acme.id)))
    assert len(contacts) == 5 and {c.timezone for c in contacts} == {"America/Noronha"}
    assert len(debts) == 5
