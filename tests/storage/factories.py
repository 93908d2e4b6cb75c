"""Small builders shared by the storage tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import ConversationRepository, PortfolioRepository
from bot.storage.models import Contact, Conversation, Debt, Debtor


async def debtor(session: AsyncSession, external_id: str = "D-1", creditor_id: str = "demo") -> Debtor:
    portfolio = PortfolioRepository(session)
    await portfolio.upsert_creditor(creditor_id, "Distribuidora Exemplo Ltda", "11222333000181")
    return await portfolio.upsert_debtor(
        creditor_id,
        external_id,
        "Mercado Boa Vista Ltda",
        "11444777000161",
        "America/Sao_Paulo",
        "pt-BR",
    )


async def debt(
    session: AsyncSession, owner: Debtor, external_id: str = "NF-1", amount: str = "1000.00"
) -> Debt:
    return await PortfolioRepository(session).upsert_debt(
        owner, external_id, Decimal(amount), "BRL", date(2026, 10, 1), f"Nota fiscal {external_id}"
    )


async def conversation(
    session: AsyncSession, owner: Debtor, address: str = "+5511999990000"
) -> tuple[Contact, Conversation]:
    contact = await PortfolioRepository(session).upsert_contact(owner, "Ana Souza", "whatsapp", address)
    return contact, await ConversationRepository(session).get_or_create(contact)
