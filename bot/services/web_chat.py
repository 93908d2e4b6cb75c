"""The web chat's reads and deliveries: the demo contacts, and the messages pushed to a contact.

The routes (bot/api/web_identity.py, bot/api/channels_web_poll.py) decide who may ask (a
link's use is bot/services/portal_links.py's); this service answers from storage, one unit
of work per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.channels.base import MediaRef
from bot.services.payment_pictures import stored_picture
from bot.storage import models as db
from bot.storage.uow import UnitOfWorkFactory

PUSHED = ("queued", "delivered")


@dataclass(frozen=True)
class PushedMessage:
    id: int
    author: str
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    picture: MediaRef | None = None


@dataclass(frozen=True)
class PushedBatch:
    messages: list[PushedMessage]
    last_id: int


class WebChat:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def is_contact_of(self, address: str, creditor: str) -> bool:
        """Whether ``address`` is a web contact of a debtor of ``creditor``."""
        async with self._uow() as uow:
            contact = await uow.portfolio.find_contact("web", address)
            return contact is not None and contact.debtor.creditor_id == creditor

    async def take_pushed(self, address: str, after: int | None) -> PushedBatch:
        """The messages pushed to ``address`` after message ``after`` (without it: those not
        yet delivered), now marked delivered; ``last_id`` is the cursor for the next call."""
        async with self._uow() as uow:
            contact = await uow.portfolio.find_contact("web", address)
            conversation = await uow.conversations.for_contact(contact.id) if contact else None
            if conversation is None:
                return PushedBatch([], after or 0)
            query = select(db.Message).where(db.Message.conversation_id == conversation.id,
                                             db.Message.direction == "out",
                                             db.Message.status.in_(PUSHED))
            query = query.where(db.Message.id > after) if after is not None else query.where(
                db.Message.status == "queued")
            rows = list(await uow.session.scalars(query.order_by(db.Message.id)))
            for row in rows:
                row.status = "delivered"
            last = await uow.session.scalar(select(func.max(db.Message.id)).where(
                db.Message.conversation_id == conversation.id))
            messages = [PushedMessage(r.id, r.author, r.text, list(r.buttons or []),
                                      stored_picture(r.template, r.template_vars)) for r in rows]
            await uow.commit()
        return PushedBatch(messages, max([last or 0, *(m.id for m in messages)]))
