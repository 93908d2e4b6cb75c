"""The agent desk's own rows: who holds a handed-off conversation, and the staff's notes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.storage.staff_models import ConversationAssignment, ConversationNote, StaffUser


class DeskRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def holder(self, conversation_id: int) -> str | None:
        """The name of the staff user holding the conversation, if any."""
        return await self.session.scalar(
            select(StaffUser.name).join(ConversationAssignment,
                                        ConversationAssignment.user_id == StaffUser.id)
            .where(ConversationAssignment.conversation_id == conversation_id))

    async def assign(self, conversation_id: int, user_id: int, at: datetime) -> None:
        """Give the conversation to ``user_id``; raises ``IntegrityError`` when someone else
        holds it already (flushed at once, so the race shows here)."""
        self.session.add(ConversationAssignment(conversation_id=conversation_id, user_id=user_id,
                                                taken_at=at))
        await self.session.flush()

    async def release(self, conversation_id: int) -> None:
        await self.session.execute(delete(ConversationAssignment).where(
            ConversationAssignment.conversation_id == conversation_id))

    async def add_note(self, conversation_id: int, user_id: int, text: str, at: datetime) -> None:
        self.session.add(ConversationNote(conversation_id=conversation_id, user_id=user_id,
                                          text=text, created_at=at))

    async def notes(self, conversation_id: int) -> Sequence[ConversationNote]:
        """The conversation's notes, their authors loaded."""
        return list(await self.session.scalars(
            select(ConversationNote).options(joinedload(ConversationNote.user))
            .where(ConversationNote.conversation_id == conversation_id)))
