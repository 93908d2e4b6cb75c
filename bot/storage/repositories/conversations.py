"""Conversations with a contact and their messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from bot.storage.models import (
    Contact,
    Conversation,
    ConversationState,
    Direction,
    Message,
)
from bot.storage.repositories.errors import DuplicateMessage
from bot.storage.types import json_safe


class ConversationRepository:
    """Conversations with contacts and their messages."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_create(self, contact: Contact) -> Conversation:
        """The contact's conversation, created (state ``bot``) on first use.

        Race-free: when first messages arrive together, the unique key on ``contact_id``
        lets one insert win; the others (their insert in a savepoint) read the winner's.
        """
        conversation = await self.for_contact(contact.id)
        if conversation is not None:
            return conversation
        try:
            async with self.session.begin_nested():
                conversation = Conversation(contact=contact, channel=contact.channel,
                                            address=contact.address)
                self.session.add(conversation)
        except IntegrityError:
            conversation = await self.session.scalar(
                select(Conversation).where(Conversation.contact_id == contact.id)
                .execution_options(populate_existing=True))
            if conversation is None:
                raise
        return conversation

    async def for_contact(self, contact_id: int) -> Conversation | None:
        """The contact's conversation, if it has one (nothing is created)."""
        return await self.session.scalar(select(Conversation).where(Conversation.contact_id == contact_id))

    async def by_public_id(self, public_id: str) -> Conversation | None:
        """The conversation with ``public_id``, its ``contact`` and ``contact.debtor`` loaded."""
        return await self.session.scalar(
            select(Conversation)
            .options(joinedload(Conversation.contact).joinedload(Contact.debtor))
            .where(Conversation.public_id == public_id)
        )

    async def for_debtor(self, debtor_id: int) -> list[Conversation]:
        """The debtor's conversations (all contacts), ``contact`` and ``messages`` loaded."""
        result = await self.session.scalars(
            select(Conversation)
            .join(Conversation.contact)
            .options(joinedload(Conversation.contact), selectinload(Conversation.messages))
            .where(Contact.debtor_id == debtor_id)
            .order_by(Conversation.id)
        )
        return list(result.unique())

    async def add_message(
        self,
        conversation: Conversation,
        *,
        direction: str,
        author: str,
        text: str,
        channel: str,
        status: str,
        template: str | None = None,
        template_vars: Mapping[str, Any] | None = None,
        buttons: Sequence[Mapping[str, Any]] | None = None,
        idempotency_key: str | None = None,
        provider_id: str | None = None,
        at: datetime | None = None,
    ) -> Message:
        """Store a message; an inbound one also sets ``conversation.last_inbound_at``.

        A known ``idempotency_key`` raises :class:`DuplicateMessage` (carrying the stored
        message) and changes nothing. Two racing inserts of one key still meet the
        unique constraint at flush, as :class:`sqlalchemy.exc.IntegrityError`.
        ``at`` defaults to now.
        """
        if idempotency_key is not None:
            existing = await self.by_idempotency_key(idempotency_key)
            if existing is not None:
                raise DuplicateMessage(existing)
        message = Message(
            conversation_id=conversation.id,
            direction=str(direction),
            author=str(author),
            text=text,
            channel=str(channel),
            status=str(status),
            template=template,
            template_vars=json_safe(template_vars) if template_vars is not None else None,
            buttons=json_safe(buttons) if buttons is not None else None,
            idempotency_key=idempotency_key,
            provider_id=provider_id,
        )
        if at is not None:
            message.created_at = message.updated_at = at
        self.session.add(message)
        await self.session.flush()
        if direction == Direction.IN:
            conversation.last_inbound_at = message.created_at
            await self.session.flush()
        return message

    async def message(self, message_id: int) -> Message | None:
        return await self.session.get(Message, message_id)

    async def by_idempotency_key(self, key: str) -> Message | None:
        return await self.session.scalar(select(Message).where(Message.idempotency_key == key))

    async def by_provider_id(self, provider_id: str) -> Message | None:
        """The message a provider knows as ``provider_id`` (for delivery status callbacks)."""
        return await self.session.scalar(
            select(Message).where(Message.provider_id == provider_id).order_by(Message.id)
        )

    async def set_message_status(self, message: Message, status: str, provider_id: str | None = None) -> None:
        message.status = str(status)
        if provider_id is not None:
            message.provider_id = provider_id
        await self.session.flush()

    async def messages(self, conversation_id: int, limit: int | None = None) -> list[Message]:
        """The conversation's messages, oldest first; with ``limit``, only the latest ones."""
        query = select(Message).where(Message.conversation_id == conversation_id)
        if limit is None:
            return list(await self.session.scalars(query.order_by(Message.id)))
        latest = list(await self.session.scalars(query.order_by(Message.id.desc()).limit(limit)))
        return latest[::-1]

    async def set_state(self, conversation: Conversation, state: str, reason: str | None = None) -> None:
        """Move the conversation to ``state``; ``reason`` is kept as ``handoff_reason``."""
        conversation.state = str(state)
        conversation.handoff_reason = reason
        if state == ConversationState.BOT:
            conversation.fallback_count = 0
        await self.session.flush()

    async def save_negotiation(self, conversation: Conversation, data: Mapping[str, Any] | None) -> None:
        """Replace the serialized negotiation state (Decimals and dates become strings)."""
        conversation.negotiation = json_safe(data) if data is not None else None
        await self.session.flush()
