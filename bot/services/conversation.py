"""The inbound pipeline shared by every channel.

Store the message first, then ask the dialogue engine, then render and store
the replies. A failure of the engine never loses the inbound message: the
debtor gets a short apology and the conversation is marked for a human.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import MediaRef
from bot.conversation.outcome import Reply
from bot.dialogue.engine import DialogueEngine, DialogueUnavailable
from bot.rendering.renderer import TemplateRenderer
from bot.services.audit_kinds import AuditKind
from bot.services.opt_out import is_opt_out_keyword, suppress_contact
from bot.services.outgoing import OutgoingMessages
from bot.services.payment_pictures import stored_picture
from bot.storage import models as db
from bot.storage.repositories.audit import AuditLog
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.errors import DuplicateMessage
from bot.storage.repositories.portfolio import PortfolioRepository

logger = logging.getLogger(__name__)

# Control characters other than tab and newline are dropped (PostgreSQL refuses NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_STORED_CHARS = 10_000
MAX_UNDERSTOOD_CHARS = 1_000


@dataclass(frozen=True)
class RenderedReply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    # The stored outbound message (None for replies that are not stored: unknown senders).
    message_id: int | None = None
    media: MediaRef | None = None  # a picture sent with it (the PIX QR code)


def clean_text(text: str) -> str:
    return _CONTROL.sub("", text)[:MAX_STORED_CHARS]


class ConversationService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], engine: DialogueEngine,
                 renderer: TemplateRenderer, default_locale: str = "pt-BR",
                 picture_channels: Collection[str] = ()) -> None:
        self._sessions = sessions
        self._engine = engine
        self._outgoing = OutgoingMessages(renderer, picture_channels)
        self._default_locale = default_locale

    async def handle_inbound(self, channel: str, address: str, text: str,
                             provider_id: str | None = None, *,
                             reactivate: bool = False) -> list[RenderedReply]:
        """Store the message, ask the dialogue engine, store and queue the replies: two
        commits of ours around the engine's turn (whose action commits its own).
        ``reactivate``: a contact marked unreachable that writes to us is reachable again."""
        cleaned = clean_text(text)
        async with self._sessions() as session:
            contact = await PortfolioRepository(session).find_contact(channel, address)
            if contact is None:
                return await self._unknown_sender(session, channel, address, cleaned)
            if reactivate and contact.status == db.ContactStatus.UNREACHABLE.value:
                contact.status = db.ContactStatus.ACTIVE.value
            conversations = ConversationRepository(session)
            conversation = await conversations.get_or_create(contact)
            key = f"{channel}:{provider_id}" if provider_id else None
            try:
                inbound = await conversations.add_message(
                    conversation, direction="in", author="debtor", text=cleaned, channel=channel,
                    status="received", idempotency_key=key, provider_id=provider_id,
                )
            except DuplicateMessage as duplicate:
                # A provider retry, or processing resumed after a crash.
                if duplicate.existing.status != "received":
                    return await self._stored_replies(conversations, duplicate.existing)
                inbound = duplicate.existing
            conversation.last_inbound_at = inbound.created_at
            await session.commit()
            replies = await self._replies_for(session, conversation, contact, cleaned)
            # The web channel answers in its HTTP response; other channels send through the
            # outbox, queued in this transaction (key ``reply:<channel>:<provider id>:<n>``).
            queued = await self._outgoing.queue(
                session, contact, replies, f"reply:{channel}:{provider_id}:" + "{index}",
                debtor=contact.debtor, conversation=conversation,
                status="sent" if channel == "web" else "queued",
            )
            rendered = [RenderedReply(q.rendered.text, q.rendered.buttons, q.message.id, q.rendered.media)
                        for q in queued]
            inbound.status = "processed"
            await session.commit()
            return rendered

    async def _replies_for(self, session: AsyncSession, conversation: db.Conversation,
                           contact: db.Contact, text: str) -> list[Reply]:
        if is_opt_out_keyword(text):
            newly = await suppress_contact(session, contact, actor="bot", text=text,
                                           conversation_id=conversation.id)
            return [Reply("opt_out_confirmed")] if newly else []
        if contact.status == "wrong_person":
            return [Reply("wrong_person_closed")]
        if conversation.state == "human":
            return []  # an agent owns the conversation: the message waits in the agent queue
        if not text.strip():
            return [Reply("empty_message")]
        try:
            replies = await self._engine.respond(
                conversation.public_id, text[:MAX_UNDERSTOOD_CHARS],
                {"channel": contact.channel},
            )
        except DialogueUnavailable as exc:
            logger.warning("dialogue engine unavailable for %s: %s", conversation.public_id, exc)
            await session.refresh(conversation)
            await ConversationRepository(session).set_state(
                conversation, "human", "dialogue_unavailable"
            )
            await AuditLog(session).record(
                AuditKind.DIALOGUE_UNAVAILABLE, "system", debtor_id=contact.debtor_id,
                conversation_id=conversation.id, data={"error": str(exc)[:500]},
            )
            return [Reply("dialogue_unavailable")]
        # The custom action committed its changes in another session; what follows reads
        # only this conversation's id and writes only the columns it sets.
        return replies

    async def _stored_replies(self, conversations: ConversationRepository,
                              inbound: db.Message) -> list[RenderedReply]:
        """The bot replies stored after ``inbound`` (up to the next inbound message)."""
        replies: list[RenderedReply] = []
        for message in await conversations.messages(inbound.conversation_id):
            if message.id <= inbound.id or message.author == "agent":
                continue
            if message.direction == "in":
                break
            replies.append(RenderedReply(message.text, list(message.buttons or []), message.id,
                                         stored_picture(message.template, message.template_vars)))
        return replies

    async def _unknown_sender(self, session: AsyncSession, channel: str, address: str,
                              text: str) -> list[RenderedReply]:
        await AuditLog(session).record(
            AuditKind.INBOUND_UNKNOWN_SENDER, "system",
            data={"channel": channel, "address": address[:200], "text": text[:2000]},
        )
        await session.commit()
        return [self._render(Reply("unknown_sender"), self._default_locale, channel)]

    def _render(self, reply: Reply, locale: str, channel: str) -> RenderedReply:
        out = self._outgoing.render(reply, locale, channel)
        return RenderedReply(text=out.text, buttons=out.buttons, media=out.media)
