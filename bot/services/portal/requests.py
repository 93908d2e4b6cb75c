"""The debtor's requests made on the portal page, carried out as the chat carries them out.

Each request is stored as the debtor's message in the web contact's conversation (so the
agent queue and the conversation's history show it), then executed as the chat's command
by :class:`~bot.services.negotiation.service.NegotiationService` (the same handlers: the
counter-proposal through the negotiation machine, ``already_paid`` opening a payment
claim, ``dispute_debt`` and ``request_human`` handing off, ``opt_out`` suppressing the
contact), and the bot's replies are stored and pushed to the page's chat panel. While a
person has the conversation, a request other than opt-out waits for them, as a chat
message does. Receipts
go on the payment claim exactly as the chat's (``bot/services/negotiation/receipts.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.channels.base import Receipt
from bot.channels.web_links import PortalLink
from bot.conversation import commands as cmd
from bot.conversation.plain_values import decode
from bot.rendering.renderer import TemplateRenderer
from bot.services.conversation import clean_text
from bot.services.negotiation.receipts import attach_receipts
from bot.services.negotiation.service import NegotiationService
from bot.services.outgoing import OutgoingMessages
from bot.services.portal.service import PortalRefused, linked_contact
from bot.storage import models as db
from bot.storage.uow import UnitOfWorkFactory

JPEG, PNG, PDF = b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-"


def receipt_type(content: bytes) -> str | None:
    """The receipt's type by its first bytes (JPEG, PNG or PDF), whatever it was declared as."""
    for magic, kind in ((JPEG, "image/jpeg"), (PNG, "image/png"), (PDF, "application/pdf")):
        if content.startswith(magic):
            return kind
    return None


@dataclass(frozen=True)
class Submitted:
    message_id: int  # the debtor's request as stored
    reply_ids: list[int]  # the bot's replies, in order


class PortalRequests:
    def __init__(self, uow: UnitOfWorkFactory, negotiation: NegotiationService,
                 renderer: TemplateRenderer) -> None:
        self._uow = uow
        self._negotiation = negotiation
        self._renderer = renderer
        self._outgoing = OutgoingMessages(renderer)

    async def submit(self, link: PortalLink, text: str, command: cmd.Command,
                     receipts: Sequence[Receipt] = ()) -> Submitted:
        """Store ``text`` as the debtor's message (with ``receipts`` on the payment claim),
        execute ``command`` as the chat does, and push the replies to the chat panel."""
        async with self._uow() as uow:
            contact = await linked_contact(uow, link)
            conversation = await uow.conversations.get_or_create(contact)
            inbound = await uow.conversations.add_message(
                conversation, direction="in", author="debtor", text=clean_text(text),
                channel=contact.channel, status="received")
            await attach_receipts(uow, contact, conversation, inbound, receipts)
            public_id, inbound_id = conversation.public_id, inbound.id
            # As in the chat: while a person has the conversation, the request waits for them
            # (receipts still go on the claim); stopping the messages always works.
            waits = (conversation.state == db.ConversationState.HUMAN.value
                     and not isinstance(command, cmd.OptOut))
            if waits:
                await uow.conversations.set_message_status(inbound, "processed")
            await uow.commit()
        if waits:
            return Submitted(inbound_id, [])
        outcome = await self._negotiation.execute(public_id, command)
        async with self._uow() as uow:
            current = await uow.conversations.by_public_id(public_id)
            assert current is not None
            contact = current.contact
            queued = await self._outgoing.queue(
                uow, contact, outcome.replies, f"portal:{inbound_id}:" + "{index}",
                debtor=contact.debtor, conversation=current, status="queued")
            message = await uow.conversations.message(inbound_id)
            assert message is not None
            await uow.conversations.set_message_status(message, "processed")
            await uow.commit()
        return Submitted(inbound_id, [q.message.id for q in queued])

    async def reply_text(self, link: PortalLink, message_id: int, locale: str) -> str | None:
        """The bot's reply ``message_id`` in ``link``'s conversation, rendered in ``locale``;
        ``None`` for any other message (another debtor's included)."""
        async with self._uow() as uow:
            try:
                contact = await linked_contact(uow, link)
            except PortalRefused:
                return None
            conversation = await uow.conversations.for_contact(contact.id)
            message = await uow.session.get(db.Message, message_id)
            if (conversation is None or message is None or message.conversation_id != conversation.id
                    or message.direction != "out"):
                return None
            if message.template is None:
                return message.text
            variables = decode(message.template_vars or {})
            return self._renderer.render(message.template, locale, variables, channel="web")
