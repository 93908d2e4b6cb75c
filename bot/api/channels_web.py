"""The built-in web chat channel (``POST /channels/web/messages``; who may speak is web_identity's).

A reply with a picture (the PIX QR code of payment instructions) carries its relative URL
as ``image``; replies without one are exactly ``{"text", "buttons"}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot import schemas
from bot.api.deps import ContainerDep
from bot.api.web_identity import IDENTITY_RESPONSES, BearerDep, web_address
from bot.services.payment_pictures import picture_path

router = APIRouter(tags=["channels"])


@router.post("/channels/web/messages", response_model=schemas.WebMessageOut,
             response_model_exclude_none=True, responses=IDENTITY_RESPONSES)
async def web_message(body: schemas.WebMessageIn, container: ContainerDep,
                      credentials: BearerDep) -> schemas.WebMessageOut:
    """Speak as a portal link's contact (``token``) or, with the admin bearer token, as
    ``sender`` (see bot/api/web_identity.py); 401 otherwise."""
    address = await web_address(container, credentials, body.token, body.sender)
    replies = await container.conversations.handle_inbound("web", address, body.text)
    return schemas.WebMessageOut(replies=[
        schemas.ReplyOut(text=r.text, buttons=[schemas.ButtonOut(**b) for b in r.buttons],
                         image=picture_path(r.media))
        for r in replies
    ])
