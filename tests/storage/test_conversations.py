"""Conversations and messages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage import ConversationRepository, DuplicateMessage
from bot.storage.models import Conversation, Message

from . import factories

Reload = Callable[[], Awaitable[None]]


async def test_one_conversation_per_contact(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    contact, conversation = await factories.conversation(session, owner)
    conversations = ConversationRepository(session)
    assert (await conversations.get_or_create(contact)).id == conversation.id
    assert len(conversation.public_id) == 32
    assert (conversation.state, conversation.fallback_count) == ("bot", 0)
    assert (conversation.channel, conversation.address) == ("whatsapp", "+5511999990000")
    await reload()

    found = await conversations.by_public_id(conversation.public_id)
    assert found is not None
    assert found.contact.debtor.external_id == "D-1"
    by_contact = await conversations.for_contact(contact.id)
    assert by_contact is not None and by_contact.id == conversation.id
    assert await conversations.for_contact(contact.id + 1000) is None
    assert await conversations.by_public_id("0" * 32) is None


async def test_messages_in_order_with_inbound_time(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    _, conversation = await factories.conversation(session, owner)
    conversations = ConversationRepository(session)
    at = datetime(2026, 10, 2, 12, 0, tzinfo=UTC)
    await conversations.add_message(
        conversation,
        direction="in",
        author="debtor",
        text="oi",
        channel="whatsapp",
        status="received",
        idempotency_key="wa:1",
        at=at,
    )
    for number in range(2, 5):
        await conversations.add_message(
            conversation,
            direction="out",
            author="bot",
            text=f"reply {number}",
            channel="whatsapp",
            status="queued",
            template="overdue_offer",
            template_vars={"balance": Decimal("1032.50"), "due": date(2026, 10, 1)},
            buttons=[{"title": "Sim", "payload": "/affirm"}],
        )
    await reload()

    every = await conversations.messages(conversation.id)
    assert [m.text for m in every] == ["oi", "reply 2", "reply 3", "reply 4"]
    assert every[0].created_at == at
    assert every[1].template_vars == {"balance": "1032.50", "due": "2026-10-01"}
    assert every[1].buttons == [{"title": "Sim", "payload": "/affirm"}]
    assert every[0].template_vars is None and every[0].buttons is None
    latest = await conversations.messages(conversation.id, limit=2)
    assert [m.text for m in latest] == ["reply 3", "reply 4"]
    stored = await conversations.by_public_id(conversation.public_id)
    assert stored is not None and stored.last_inbound_at == at
    listed = await conversations.for_debtor(owner.id)
    assert [len(c.messages) for c in listed] == [4]


async def test_idempotency_key_is_unique(
    session: AsyncSession, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await factories.debtor(session)
    _, conversation = await factories.conversation(session, owner)
    conversations = ConversationRepository(session)
    first = await conversations.add_message(
        conversation,
        direction="in",
        author="debtor",
        channel="whatsapp",
        status="received",
        text="oi",
        idempotency_key="SM123",
    )
    await session.commit()

    with pytest.raises(DuplicateMessage) as raised:
        await conversations.add_message(
            conversation,
            direction="in",
            author="debtor",
            channel="whatsapp",
            status="received",
            text="oi again",
            idempotency_key="SM123",
        )
    assert raised.value.existing.id == first.id
    # messages without a key never collide
    for text in ("a", "b"):
        await conversations.add_message(
            conversation,
            direction="in",
            author="debtor",
            channel="whatsapp",
            status="received",
            text=text,
        )
    await session.commit()

    # the database enforces it too (two workers racing past the check)
    async with sessions() as other:
        other.add(
            Message(
                conversation_id=conversation.id,
                direction="in",
                author="debtor",
                channel="whatsapp",
                status="received",
                text="race",
                idempotency_key="SM123",
            )
        )
        with pytest.raises(IntegrityError):
            await other.flush()
        await other.rollback()


async def test_delivery_status_by_provider_id(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    _, conversation = await factories.conversation(session, owner)
    conversations = ConversationRepository(session)
    message = await conversations.add_message(
        conversation,
        direction="out",
        author="bot",
        text="ola",
        channel="whatsapp",
        status="queued",
    )
    await conversations.set_message_status(message, "sent", provider_id="SM999")
    await reload()
    found = await conversations.by_provider_id("SM999")
    assert found is not None and found.status == "sent"
    await conversations.set_message_status(found, "delivered")
    await reload()
    assert (await conversations.messages(conversation.id))[0].status == "delivered"


async def test_state_and_negotiation(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    _, conversation = await factories.conversation(session, owner)
    conversations = ConversationRepository(session)
    await session.execute(
        update(Conversation).where(Conversation.id == conversation.id).values(fallback_count=2)
    )
    await conversations.set_state(conversation, "human", reason="dispute_debt")
    await conversations.save_negotiation(
        conversation,
        {
            "step": "countering",
            "round": 2,
            "balance": Decimal("1032.50"),
            "plan": [{"number": 1, "due_date": date(2026, 10, 10), "amount": Decimal("500.00")}],
        },
    )
    await reload()

    stored = await conversations.by_public_id(conversation.public_id)
    assert stored is not None
    assert (stored.state, stored.handoff_reason, stored.fallback_count) == (
        "human",
        "dispute_debt",
        2,
    )
    assert stored.negotiation == {
        "step": "countering",
        "round": 2,
        "balance": "1032.50",
        "plan": [{"number": 1, "due_date": "2026-10-10", "amount": "500.00"}],
    }
    await conversations.set_state(stored, "bot")
    await conversations.save_negotiation(stored, None)
    await reload()
    again = await conversations.by_public_id(conversation.public_id)
    assert again is not None
    assert (again.state, again.handoff_reason, again.fallback_count) == ("bot", None, 0)
    assert again.negotiation is None
