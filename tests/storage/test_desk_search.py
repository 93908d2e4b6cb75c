"""The queue's search and "mine" filter in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import ConversationRepository, PortfolioRepository
from bot.storage.models import Conversation
from bot.storage.repositories.desk import DeskRepository
from bot.storage.staff_models import StaffUser

AT = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


async def waiting(session: AsyncSession, key: str, name: str, tax_id: str | None,
                  invoice: str, state: str = "human") -> Conversation:
    portfolio = PortfolioRepository(session)
    await portfolio.upsert_creditor("demo", "Distribuidora Exemplo Ltda", "11222333000181")
    owner = await portfolio.upsert_debtor("demo", key, name, tax_id, "America/Sao_Paulo", "pt-BR")
    await portfolio.upsert_debt(owner, invoice, "100.00", "BRL", AT.date())
    contact = await portfolio.upsert_contact(owner, f"Contato {key}", "web", f"{key}@example.com")
    conversations = ConversationRepository(session)
    conversation = await conversations.get_or_create(contact)
    await conversations.set_state(conversation, state, "request_human")
    return conversation


async def test_search_and_mine(session: AsyncSession) -> None:
    ferro = await waiting(session, "ferro", "Ferragens Norte S.A.", "04.252.011/0001-10", "FAT-0815")
    tinta = await waiting(session, "tinta", "Tintas 100% Cor ME", "33000167000101", "NF_77")
    await waiting(session, "bot", "Ferragens do Bot Ltda", "04252011000110", "NF-9", state="bot")
    await waiting(session, "semcnpj", "Sem Documento Ltda", None, "NF-10")
    alice = StaffUser(name="alice", role="agent", password_hash="x")
    session.add(alice)
    await session.flush()
    desk = DeskRepository(session)
    await desk.assign(tinta.id, alice.id, AT)

    async def found(search: str = "", held_by: str | None = None) -> set[int]:
        return {c.id for c in await desk.waiting(search, held_by)}

    assert len(await found()) == 3  # the bot's conversation is not in the queue
    assert await found("FERRAGENS") == {ferro.id}
    assert await found("04.252.011/0001-10") == await found("04252011000110") == {ferro.id}
    assert await found("33.000.167/0001-01") == {tinta.id}
    assert await found("fat-0815") == {ferro.id}
    assert await found("100%") == {tinta.id}  # % and _ are not wildcards
    assert await found("nf_7") == {tinta.id} and await found("n_-") == set()
    assert await found("contato ferro") == {ferro.id}
    assert await found(held_by="alice") == {tinta.id}
    assert await found("ferragens", held_by="alice") == set()
    assert await found(held_by="bruno") == set()
