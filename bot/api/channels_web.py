"""The built-in web chat channel (CONTRACT §4)."""

from __future__ import annotations

from fastapi import APIRouter

from bot.api import schemas
from bot.api.deps import ContainerDep

router = APIRouter(tags=["channels"])


@router.post("/channels/web/messages", response_model=schemas.WebMessageOut)
async def web_message(body: schemas.WebMessageIn, container: ContainerDep) -> schemas.WebMessageOut:
    replies = await container.conversations.handle_inbound("web", body.sender, body.text)
    return schemas.WebMessageOut(replies=[
        schemas.ReplyOut(text=r.text, buttons=[schemas.ButtonOut(**b) for b in r.buttons])
        for r in replies
    ])
