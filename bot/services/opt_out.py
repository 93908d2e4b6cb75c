"""Opt-out: a debtor contact asks us to stop, on any channel, by keyword or by intent.

What counts as asking (a reviewed keyword list, or a confident ``opt_out`` intent) is
decided in :mod:`bot.understanding.consent`; anything less gets a confirmation question.

The contact is suppressed on every channel at once: every contact of the same debtor
with the same name (the same person on Telegram, WhatsApp, SMS, web) is marked
``opted_out``, their conversations move to ``opted_out``, queued bot-initiated messages
to them are cancelled, and one audit event records it with its timestamp.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.audit_kinds import AuditKind
from bot.storage import models as db
from bot.storage.channel_repositories import OutboxRepository
from bot.storage.repositories.audit import AuditLog
from bot.storage.repositories.conversations import ConversationRepository
from bot.understanding.consent import is_opt_out_keyword

__all__ = ["is_opt_out_keyword", "suppress_contact"]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return "".join(ch for ch in letters if ch.isalnum() or ch.isspace()).strip()


async def suppress_contact(session: AsyncSession, contact: db.Contact, *, actor: str, text: str,
                           conversation_id: int | None = None) -> bool:
    """Opt the person behind ``contact`` out on every channel; ``False`` if already opted out.

    Whether it was already is decided by one conditional ``UPDATE`` of the contact's row, not
    by the status loaded earlier: two opt-outs of the same person arriving at once on two
    channels (WhatsApp "PARAR" and Telegram "STOP") then confirm once — PostgreSQL re-checks
    the row after the other transaction's lock, SQLite takes the write lock first.
    """
    claimed = await session.execute(
        update(db.Contact)
        .where(db.Contact.id == contact.id, db.Contact.status != db.ContactStatus.OPTED_OUT.value)
        .values(status=case((db.Contact.status == db.ContactStatus.WRONG_PERSON.value, db.Contact.status),
                            else_=db.ContactStatus.OPTED_OUT.value))
        .execution_options(synchronize_session=False))
    already = claimed.rowcount == 0  # type: ignore[attr-defined]
    await session.refresh(contact)
    siblings = list(await session.scalars(
        select(db.Contact).where(db.Contact.debtor_id == contact.debtor_id)))
    person = _fold(contact.name or "")
    targets = [c for c in siblings if c.id == contact.id or (person and _fold(c.name or "") == person)]
    conversations = ConversationRepository(session)
    for target in targets:
        if target.status != db.ContactStatus.WRONG_PERSON:
            target.status = db.ContactStatus.OPTED_OUT.value
        conversation = await conversations.for_contact(target.id)
        if conversation is not None and conversation.state != db.ConversationState.OPTED_OUT:
            await conversations.set_state(conversation, db.ConversationState.OPTED_OUT)
    cancelled = await OutboxRepository(session).cancel_bot_initiated([t.id for t in targets], "opted out")
    if not already:
        await AuditLog(session).record(
            AuditKind.OPTED_OUT, actor, debtor_id=contact.debtor_id, conversation_id=conversation_id,
            data={"channel": contact.channel, "text": text[:500],
                  "contacts": [{"channel": t.channel, "address": t.address} for t in targets],
                  "cancelled_messages": cancelled},
        )
    await session.flush()
    return not already
