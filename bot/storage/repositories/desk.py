"""The agent desk's own rows: who holds a handed-off conversation, and the staff's notes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from bot.storage import models as db
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

    async def waiting(self, search: str = "", held_by: str | None = None
                      ) -> Sequence[db.Conversation]:
        """The conversations with a person (``state = human``), contact and debtor loaded;
        ``search`` matches the company's or the contact's name, the CNPJ (punctuation
        ignored) or an invoice's id; ``held_by`` keeps those that staff user holds."""
        query = (select(db.Conversation)
                 .options(joinedload(db.Conversation.contact).joinedload(db.Contact.debtor))
                 .join(db.Contact, db.Contact.id == db.Conversation.contact_id)
                 .join(db.Debtor, db.Debtor.id == db.Contact.debtor_id)
                 .where(db.Conversation.state == db.ConversationState.HUMAN.value))
        if search.strip():
            query = query.where(_matching(search.strip()))
        if held_by is not None:
            query = query.where(db.Conversation.id.in_(
                select(ConversationAssignment.conversation_id)
                .join(StaffUser, StaffUser.id == ConversationAssignment.user_id)
                .where(StaffUser.name == held_by)))
        return list((await self.session.scalars(query)).unique())

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


def _matching(search: str) -> ColumnElement[bool]:
    """Company or contact name, invoice id (case ignored), or CNPJ digits (punctuation ignored)."""
    term = search.lower()
    invoice = exists().where(db.Debt.debtor_id == db.Debtor.id,
                             func.lower(db.Debt.external_id).contains(term, autoescape=True))
    found: list[ColumnElement[bool]] = [
        func.lower(db.Debtor.name).contains(term, autoescape=True),
        func.lower(db.Contact.name).contains(term, autoescape=True), invoice]
    digits = re.sub(r"\D", "", search)
    if len(digits) >= 3 and not re.search(r"[^\d\s./-]", search):
        bare = func.replace(func.replace(func.replace(
            func.coalesce(db.Debtor.tax_id, ""), ".", ""), "/", ""), "-", "")
        found.append(bare.contains(digits, autoescape=True))
    return or_(*found)
