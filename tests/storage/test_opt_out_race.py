"""Two opt-outs of one person at once (WhatsApp "PARAR", Telegram "STOP") confirm once, on
SQLite and PostgreSQL: the second transaction loaded the contact before the first committed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.opt_out import suppress_contact
from bot.storage import PortfolioRepository
from bot.storage.models import AuditEvent, Contact
from tests.storage.factories import conversation, debtor


async def test_a_stale_contact_does_not_confirm_twice(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        owner = await debtor(session)
        whatsapp, _ = await conversation(session, owner)
        telegram = await PortfolioRepository(session).upsert_contact(owner, "Ana Souza", "telegram", "5001")
        await session.commit()
        ids = whatsapp.id, telegram.id
    async with sessions() as first, sessions() as second:
        late = await second.get(Contact, ids[1])  # loaded while still active
        assert late is not None and late.status == "active"
        early = await first.get(Contact, ids[0])
        assert early is not None
        assert await suppress_contact(first, early, actor="bot", text="PARAR") is True
        await first.commit()
        assert await suppress_contact(second, late, actor="bot", text="STOP") is False
        await second.commit()
    async with sessions() as session:
        statuses = {c.channel: c.status for c in await session.scalars(select(Contact))}
        events = list(await session.scalars(select(AuditEvent).where(AuditEvent.kind == "opted_out")))
    assert statuses == {"whatsapp": "opted_out", "telegram": "opted_out"} and len(events) == 1
