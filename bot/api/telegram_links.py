"""Admin API: issue a one-time Telegram deep link for a debtor contact."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from bot.api.deps import AdminDep, ContainerDep
from bot.schemas import LINE
from bot.services.telegram_links import UnknownDebtor

router = APIRouter(prefix="/api/v1", tags=["admin"], dependencies=[AdminDep])


class LinkTokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    debtor_external_id: str = Field(min_length=1, max_length=64, pattern=LINE)
    contact_name: str = Field(min_length=1, max_length=255, pattern=LINE)
    creditor: str | None = Field(default=None, min_length=1, max_length=64, pattern=LINE)
    locale: str | None = Field(default=None, min_length=2, max_length=16, pattern=LINE)


class LinkTokenOut(BaseModel):
    token: str
    link: str | None
    expires_at: datetime


@router.post("/telegram/link-tokens", response_model=LinkTokenOut, status_code=status.HTTP_201_CREATED)
async def issue_link_token(body: LinkTokenIn, container: ContainerDep) -> LinkTokenOut:
    try:
        issued = await container.channels.links.issue(
            body.debtor_external_id, body.contact_name, creditor_id=body.creditor, locale=body.locale)
    except UnknownDebtor as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return LinkTokenOut(token=issued.token, expires_at=issued.expires_at,
                        link=issued.url(container.settings.telegram_bot_username))
