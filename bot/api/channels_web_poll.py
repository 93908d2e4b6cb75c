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

from bot.api.deps import ContainerDep
from bot.api.web_identity import IDENTITY_RESPONSES, BearerDep, web_address
from bot.schemas import ButtonOut
from bot.services.payment_pictures import picture_path
from bot.services.web_chat import WebChat

router = APIRouter(tags=["channels"])


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
    address = await web_address(container, credentials, token, sender, via="poll")
    batch = await WebChat(container.uow).take_pushed(address, after)
    return PushedMessages(
        messages=[PushedMessage(id=m.id, author=m.author, text=m.text,
                                buttons=[ButtonOut(**b) for b in m.buttons],
                                image=picture_path(m.picture))
                  for m in batch.messages],
        last_id=batch.last_id)
