"""The built-in web chat channel (CONTRACT §4).

A reply with a picture (the PIX QR code of payment instructions) carries its relative URL
as ``image``; replies without one are exactly ``{"text", "buttons"}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from bot.api import schemas
from bot.api.deps import ContainerDep
from bot.services.payment_pictures import picture_path

router = APIRouter(tags=["channels"])


@router.post("/channels/web/messages", response_model=schemas.WebMessageOut,
             response_model_exclude_none=True)
async def web_message(body: schemas.WebMessageIn, container: ContainerDep) -> schemas.WebMessageOut:
    replies = await container.conversations.handle_inbound("web", body.sender, body.text)
    return schemas.WebMessageOut(replies=[
        schemas.ReplyOut(text=r.text, buttons=[schemas.ButtonOut(**b) for b in r.buttons],
                         image=picture_path(r.media))
        for r in replies
    ])
