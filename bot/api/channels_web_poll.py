"""GET /channels/web/messages: what the web chat page polls for messages pushed to it.

Replies to a POST come back in its answer; messages sent later (an agent's reply, an
offer, the bot picking up after a hand back) are stored ``queued`` and fetched here.
Like the POST, it takes a portal link ``token``, or ``sender`` with the admin bearer token
(or in demo mode for the demo creditor's contacts); see bot/api/web_identity.py.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from bot.api.deps import ContainerDep
from bot.api.web_identity import IDENTITY_RESPONSES, BearerDep, web_address
from bot.schemas import ButtonOut
from bot.services.payment_pictures import picture_path, stored_picture
from bot.storage import models as db
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.portfolio import PortfolioRepository

router = APIRouter(tags=["channels"])
PUSHED = ("queued", "delivered")


class PushedMessage(BaseModel):
    id: int
    author: str
    text: str
    buttons: list[ButtonOut] = Field(default_factory=list)
    image: str | None = None  # the PIX QR code of payment instructions (relative URL)


class PushedMessages(BaseModel):
    messages: list[PushedMessage]
    last_id: int


@router.get("/channels/web/messages", response_model=PushedMessages, responses=IDENTITY_RESPONSES)
async def pushed_messages(container: ContainerDep, credentials: BearerDep,
                          sender: Annotated[str | None, Query(max_length=200)] = None,
                          token: Annotated[str | None, Query(max_length=1000)] = None,
                          after: int | None = None) -> PushedMessages:
    """Messages pushed to the contact after message ``after`` (without ``after``: those not
    yet delivered). ``last_id`` is the cursor for the next call."""
    address = await web_address(container, credentials, token, sender)
    async with container.sessions() as session:
        contact = await PortfolioRepository(session).find_contact("web", address)
        conversation = (await ConversationRepository(session).for_contact(contact.id)
                        if contact else None)
        if conversation is None:
            return PushedMessages(messages=[], last_id=after or 0)
        query = select(db.Message).where(db.Message.conversation_id == conversation.id,
                                         db.Message.direction == "out",
                                         db.Message.status.in_(PUSHED))
        query = query.where(db.Message.id > after) if after is not None else query.where(
            db.Message.status == "queued")
        rows = list(await session.scalars(query.order_by(db.Message.id)))
        for row in rows:
            row.status = "delivered"
        last = await session.scalar(select(func.max(db.Message.id)).where(
            db.Message.conversation_id == conversation.id))
        await session.commit()
        return PushedMessages(
            messages=[PushedMessage(id=r.id, author=r.author, text=r.text,
                                    buttons=[ButtonOut(**b) for b in r.buttons or []],
                                    image=picture_path(stored_picture(r.template, r.template_vars)))
                      for r in rows],
            last_id=max([last or 0, *(r.id for r in rows)]))
