"""The inbound pipeline shared by every channel.

Store the message first, then ask the dialogue engine, then render and store
the replies. A failure of the engine never loses the inbound message: the
debtor gets a short apology and the conversation is marked for a human.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from bot.channels.base import MediaRef, Receipt
from bot.conversation.outcome import Reply
from bot.dialogue.engine import DialogueEngine, DialogueUnavailable
from bot.rendering.renderer import TemplateRenderer
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.receipts import attach_receipts, receipt_replies
from bot.services.opt_out import is_opt_out_keyword, suppress_contact
from bot.services.outgoing import OutgoingMessages
from bot.services.payment_pictures import stored_picture
from bot.services.portal_links import PortalLinkIssuer
from bot.services.update_claim import UpdateClaim
from bot.storage import models as db
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.errors import DuplicateMessage
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory
from bot.understanding.portal_link_request import asks_for_portal_link

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
    def __init__(self, uow: UnitOfWorkFactory, engine: DialogueEngine,
                 renderer: TemplateRenderer, default_locale: str = "pt-BR",
                 picture_channels: Collection[str] = (), *,
                 portal_links: PortalLinkIssuer | None = None) -> None:
        self._uow = uow
        self._portal_links = portal_links
        self._engine = engine
        self._outgoing = OutgoingMessages(renderer, picture_channels)
        self._default_locale = default_locale

    async def handle_inbound(self, channel: str, address: str, text: str,
                             provider_id: str | None = None, *, reactivate: bool = False,
                             claim: UpdateClaim | None = None,
                             receipts: Sequence[Receipt] = ()) -> list[RenderedReply]:
        """Store the message, ask the dialogue engine, store and queue the replies: two
        units of work of ours around the engine's turn (whose action commits its own).
        ``reactivate``: a contact marked unreachable that writes to us is reachable again.
        ``claim``: the stored inbound update this message came in; it is taken with the
        message stored and marked processed with the replies queued (bot/services/update_claim.py).
        ``receipts``: files sent with the message, stored on the debtor's payment claim; a
        message of receipts alone is answered without the dialogue engine."""
        cleaned = clean_text(text)
        async with self._uow() as uow:
            if claim is not None:
                await claim.take(uow)
            contact = await uow.portfolio.find_contact(channel, address)
            if contact is None:
                return await self._unknown_sender(uow, channel, address, cleaned)
            stored = await self._store_inbound(uow, contact, cleaned, provider_id, reactivate)
            if isinstance(stored, list):
                return stored
            conversation, inbound = stored
            attached = await attach_receipts(uow, contact, conversation, inbound, receipts)
            await uow.commit()
        turn = _route(contact, conversation, cleaned)
        if turn == "empty" and attached:
            turn = "receipt"
        answer = await self._ask(conversation, contact, cleaned) if turn == "dialogue" else None
        async with self._uow() as uow:
            # Read again: the custom action committed its changes in another transaction.
            current = await uow.conversations.by_public_id(conversation.public_id)
            assert current is not None
            conversation, contact = current, current.contact
            replies = await self._replies_for(uow, turn, answer, conversation, contact, cleaned)
            # The web channel answers in its HTTP response; other channels send through the
            # outbox, queued in this transaction (key ``reply:<channel>:<provider id>:<n>``).
            queued = await self._outgoing.queue(
                uow, contact, replies, f"reply:{channel}:{provider_id}:" + "{index}",
                debtor=contact.debtor, conversation=conversation,
                status="sent" if channel == "web" else "queued",
            )
            rendered = [RenderedReply(q.rendered.text, q.rendered.buttons, q.message.id, q.rendered.media)
                        for q in queued]
            message = await uow.conversations.message(inbound.id)
            assert message is not None
            await uow.conversations.set_message_status(message, "processed")
            if claim is not None:
                await claim.settle(uow)
            await uow.commit()
            return rendered

    async def _store_inbound(self, uow: UnitOfWork, contact: db.Contact, text: str,
                             provider_id: str | None, reactivate: bool
                             ) -> tuple[db.Conversation, db.Message] | list[RenderedReply]:
        """The conversation and the stored message, or the replies already stored for it."""
        if reactivate and contact.status == db.ContactStatus.UNREACHABLE.value:
            contact.status = db.ContactStatus.ACTIVE.value
        conversation = await uow.conversations.get_or_create(contact)
        key = f"{contact.channel}:{provider_id}" if provider_id else None
        try:
            inbound = await uow.conversations.add_message(
                conversation, direction="in", author="debtor", text=text, channel=contact.channel,
                status="received", idempotency_key=key, provider_id=provider_id,
            )
        except DuplicateMessage as duplicate:
            # A provider retry, or processing resumed after a crash.
            if duplicate.existing.status != "received":
                return await self._stored_replies(uow.conversations, duplicate.existing)
            inbound = duplicate.existing
        conversation.last_inbound_at = inbound.created_at
        return conversation, inbound

    async def _ask(self, conversation: db.Conversation, contact: db.Contact,
                   text: str) -> list[Reply] | DialogueUnavailable:
        """The dialogue engine's replies (outside any transaction of ours), or why it failed."""
        try:
            return await self._engine.respond(
                conversation.public_id, text[:MAX_UNDERSTOOD_CHARS], {"channel": contact.channel},
            )
        except DialogueUnavailable as exc:
            logger.warning("dialogue engine unavailable for %s: %s", conversation.public_id, exc)
            return exc

    async def _replies_for(self, uow: UnitOfWork, turn: str, answer: list[Reply] | DialogueUnavailable | None,
                           conversation: db.Conversation, contact: db.Contact, text: str) -> list[Reply]:
        match turn:
            case "opt_out":
                newly = await suppress_contact(uow.session, contact, actor="bot", text=text,
                                               conversation_id=conversation.id)
                return [Reply("opt_out_confirmed")] if newly else []
            case "wrong_person":
                return [Reply("wrong_person_closed")]
            case "human":
                return []  # an agent owns the conversation: the message waits in the agent queue
            case "empty":
                return [Reply("empty_message")]
            case "receipt":
                return await receipt_replies(uow, contact.debtor_id)
            case "portal_link":
                return [await self._portal_link(uow, contact)]
        if isinstance(answer, DialogueUnavailable):
            await uow.conversations.set_state(conversation, "human", "dialogue_unavailable")
            await uow.audit.record(
                AuditKind.DIALOGUE_UNAVAILABLE, "system", debtor_id=contact.debtor_id,
                conversation_id=conversation.id, data={"error": str(answer)[:500]},
            )
            return [Reply("dialogue_unavailable")]
        return answer or []

    async def _portal_link(self, uow: UnitOfWork, contact: db.Contact) -> Reply:
        """A new portal link for the contact (issued by ``bot``), or a polite "not now"."""
        name = {"contact_name": (contact.name or "").split(" ")[0]}
        if self._portal_links is None or not self._portal_links.enabled:
            return Reply("portal_link_unavailable", name)
        url = await self._portal_links.url_for(uow, contact.debtor, contact, "bot")
        return Reply("portal_link_sent", {**name, "portal_link": url})

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

    async def _unknown_sender(self, uow: UnitOfWork, channel: str, address: str,
                              text: str) -> list[RenderedReply]:
        await uow.audit.record(
            AuditKind.INBOUND_UNKNOWN_SENDER, "system",
            data={"channel": channel, "address": address[:200], "text": text[:2000]},
        )
        await uow.commit()
        return [self._render(Reply("unknown_sender"), self._default_locale, channel)]

    def _render(self, reply: Reply, locale: str, channel: str) -> RenderedReply:
        out = self._outgoing.render(reply, locale, channel)
        return RenderedReply(text=out.text, buttons=out.buttons, media=out.media)


def _route(contact: db.Contact, conversation: db.Conversation, text: str) -> str:
    """Who answers the message, decided on what was stored with it: the opt-out, a closed
    conversation (wrong person), the agent who owns it, the empty-message reply, a request
    for the portal link (no intent covers it: read bot-side) or the dialogue."""
    if is_opt_out_keyword(text):
        return "opt_out"
    if contact.status == "wrong_person":
        return "wrong_person"
    if conversation.state == "human":
        return "human"
    if not text.strip():
        return "empty"
    if asks_for_portal_link(text):
        return "portal_link"
    return "dialogue"
