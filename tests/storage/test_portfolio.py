"""Creditors, debtors, contacts and debts: upserts, conflicts, look-ups."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import AmbiguousDebt, AmbiguousDebtor, ContactConflict, PortfolioRepository
from bot.storage.models import Contact, Creditor, Debt, Debtor

from . import factories

Reload = Callable[[], Awaitable[None]]


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_upserts_are_idempotent_and_update_fields(session: AsyncSession, reload: Reload) -> None:
    portfolio = PortfolioRepository(session)
    for name in ("Old Name Ltda", "Distribuidora Exemplo Ltda"):
        await portfolio.upsert_creditor("demo", name, "11222333000181")
        owner = await portfolio.upsert_debtor("demo", "D-1", "Mercado", None, "America/Sao_Paulo", "pt-BR")
        await portfolio.upsert_contact(owner, "Ana", "whatsapp", "+5511999990000", "pt-BR")
        await portfolio.upsert_debt(owner, "NF-1", Decimal("1000.00"), "BRL", date(2026, 10, 1))
    await portfolio.upsert_debtor("demo", "D-1", "Mercado Novo", "1", "America/Manaus", "en")
    await reload()

    assert [await count(session, m) for m in (Creditor, Debtor, Contact, Debt)] == [1, 1, 1, 1]
    creditor = await session.get(Creditor, "demo")
    assert creditor is not None and creditor.name == "Distribuidora Exemplo Ltda"
    debtor = await portfolio.get_debtor("D-1")
    assert debtor is not None
    assert (debtor.name, debtor.tax_id, debtor.timezone, debtor.locale) == (
        "Mercado Novo",
        "1",
        "America/Manaus",
        "en",
    )
    assert debtor.creditor.id == "demo"
    assert [c.address for c in debtor.contacts] == ["+5511999990000"]
    assert [d.external_id for d in debtor.debts] == ["NF-1"]
    assert debtor.created_at <= debtor.updated_at


async def test_contact_of_another_debtor_is_a_conflict(session: AsyncSession) -> None:
    portfolio = PortfolioRepository(session)
    first = await factories.debtor(session, "D-1")
    second = await factories.debtor(session, "D-2")
    await portfolio.upsert_contact(first, "Ana", "telegram", "12345")
    with pytest.raises(ContactConflict) as raised:
        await portfolio.upsert_contact(second, "Bruno", "telegram", "12345")
    assert raised.value.debtor_id == first.id
    # the same address on another channel is another contact
    other = await portfolio.upsert_contact(second, "Bruno", "sms", "12345")
    assert other.debtor_id == second.id


async def test_reimport_keeps_opt_out_and_payments(session: AsyncSession, reload: Reload) -> None:
    portfolio = PortfolioRepository(session)
    owner = await factories.debtor(session)
    contact = await portfolio.upsert_contact(owner, "Ana", "sms", "+5511988887777")
    contact.status = "opted_out"
    debt = await factories.debt(session, owner, "NF-9", "500.00")
    debt.paid_amount, debt.status = Decimal("500.00"), "paid"
    await reload()

    owner = await factories.debtor(session)
    contact = await portfolio.upsert_contact(owner, "Ana S.", "sms", "+5511988887777")
    debt = await portfolio.upsert_debt(owner, "NF-9", "600.00", "BRL", date(2026, 11, 1), "fixed")
    await reload()

    stored_contact = await portfolio.find_contact("sms", "+5511988887777")
    assert stored_contact is not None
    assert (stored_contact.name, stored_contact.status) == ("Ana S.", "opted_out")
    assert stored_contact.debtor.external_id == "D-1"
    stored_debt = await portfolio.get_debt("NF-9")
    assert stored_debt is not None
    assert (stored_debt.amount, stored_debt.paid_amount, stored_debt.status) == (
        Decimal("600.00"),
        Decimal("500.00"),
        "paid",
    )
    assert stored_debt.unpaid_amount == Decimal("100.00")
    assert stored_debt.debtor.id == owner.id


async def test_same_external_ids_under_two_creditors(session: AsyncSession) -> None:
    portfolio = PortfolioRepository(session)
    demo = await factories.debtor(session, "D-1", "demo")
    other = await factories.debtor(session, "D-1", "other")
    await factories.debt(session, demo, "NF-1")
    await factories.debt(session, other, "NF-1")

    with pytest.raises(AmbiguousDebtor) as raised:
        await portfolio.get_debtor("D-1")
    assert raised.value.creditor_ids == ("demo", "other")
    with pytest.raises(AmbiguousDebt):
        await portfolio.get_debt("NF-1")
    found = await portfolio.get_debtor("D-1", creditor_id="other")
    assert found is not None and found.id == other.id
    debt = await portfolio.get_debt("NF-1", creditor_id="demo")
    assert debt is not None and debt.debtor_id == demo.id
    assert await portfolio.get_debtor("nobody") is None
    assert await portfolio.get_debt("nothing") is None
    assert await portfolio.find_contact("web", "nobody") is None


async def test_debts_by_status(session: AsyncSession) -> None:
    portfolio = PortfolioRepository(session)
    owner = await factories.debtor(session)
    statuses = {"NF-1": "open", "NF-2": "in_agreement", "NF-3": "paid", "NF-4": "disputed"}
    for external_id, status in statuses.items():
        debt = await factories.debt(session, owner, external_id)
        debt.status = status
    await session.flush()

    assert [d.external_id for d in await portfolio.open_debts(owner.id)] == ["NF-1"]
    assert [d.external_id for d in await portfolio.debts_for(owner.id)] == list(statuses)
    chosen = await portfolio.debts_for(owner.id, statuses=["open", "disputed"])
    assert [d.external_id for d in chosen] == ["NF-1", "NF-4"]
    assert [c.id for c in await portfolio.contacts_for(owner.id)] == []
    by_id = await portfolio.debtor_by_id(owner.id)
    assert by_id is not None and len(by_id.debts) == 4


async def test_a_conflict_in_a_savepoint_spares_the_rest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The import pattern: one savepoint per debtor, a conflicting one is left out."""
    async with sessions() as session:
        first = await factories.debtor(session, "D-1")
        await PortfolioRepository(session).upsert_contact(first, "Ana", "web", "ana")
        await session.commit()

    async with sessions() as session:
        portfolio = PortfolioRepository(session)
        for external_id, address in (("D-2", "bruno"), ("D-3", "ana"), ("D-4", "carla")):
            try:
                async with session.begin_nested():
                    debtor = await portfolio.upsert_debtor(
                        "demo", external_id, external_id, None, "America/Sao_Paulo", "pt-BR"
                    )
                    await portfolio.upsert_contact(debtor, external_id, "web", address)
            except ContactConflict:
                continue
        await session.commit()

    async with sessions() as session:
        stored = await session.scalars(select(Debtor.external_id).order_by(Debtor.id))
        assert list(stored) == ["D-1", "D-2", "D-4"]
        assert await count(session, Contact) == 3


async def test_rollback_undoes_released_savepoints(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        await factories.debtor(session, "D-1")
        await session.commit()
    async with sessions() as session:
        async with session.begin_nested():
            await factories.debtor(session, "D-2")
        await session.rollback()
    async with sessions() as session:
        assert await count(session, Debtor) == 1


async def test_a_debt_never_changes_debtor(session: AsyncSession) -> None:
    from bot.storage.repositories.errors import DebtConflict

    repo = PortfolioRepository(session)
    first = await factories.debtor(session)
    await factories.debt(session, first, "NF-1", "100.00")
    other = await repo.upsert_debtor(first.creditor_id, "other", "Outra Ltda", None,
                                     "America/Sao_Paulo", "pt-BR")
    with pytest.raises(DebtConflict, match="NF-1"):
        await repo.upsert_debt(other, "NF-1", "5.00", "BRL", date(2026, 10, 1))
