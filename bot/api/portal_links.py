"""Admin API: issue a debtor's portal link (as `acordo portal link` does) and revoke one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Response, status
from pydantic import BaseModel, ConfigDict, Field

from bot.api.deps import AdminDep, ContainerDep
from bot.api.web_identity import link_signer, portal_lifetime
from bot.config import Settings
from bot.schemas import LINE
from bot.services.portal_links import PortalLinkError, issue_portal_link, revoke_portal_link

router = APIRouter(prefix="/api/v1", tags=["admin"], dependencies=[AdminDep])


class PortalLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    debtor_external_id: str = Field(min_length=1, max_length=64, pattern=LINE)
    creditor: str | None = Field(default=None, min_length=1, max_length=64, pattern=LINE)
    contact: str | None = Field(default=None, min_length=1, max_length=255, pattern=LINE,
                                description="a contact's address or name; default the first web contact")
    days: float | None = Field(default=None, gt=0, le=90,
                               description="days the link works; default ACORDO_PORTAL_LINK_DAYS")


class PortalLinkOut(BaseModel):
    id: int = Field(description="the stored link's id (to revoke it)")
    link: str
    token: str
    expires_at: datetime
    contact_name: str


@router.post("/portal/links", response_model=PortalLinkOut, status_code=status.HTTP_201_CREATED,
             responses={404: {"description": "no such debtor or contact"},
                        409: {"description": "portal links are off (ACORDO_LINK_SECRET unset)"}})
async def issue_link(body: PortalLinkIn, container: ContainerDep) -> PortalLinkOut:
    signer = link_signer(container)
    if signer is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "portal links are off: set ACORDO_LINK_SECRET")
    try:
        issued = await issue_portal_link(container.uow, signer, body.debtor_external_id,
                                         portal_lifetime(container, body.days),
                                         creditor=body.creditor, contact=body.contact,
                                         issued_by="api")
    except PortalLinkError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return PortalLinkOut(id=issued.id, link=issued.url(base_url(container.settings)), token=issued.token,
                         expires_at=issued.expires_at, contact_name=issued.contact_name)


@router.delete("/portal/links/{link_id}", status_code=status.HTTP_204_NO_CONTENT,
               responses={404: {"description": "no such link"}})
async def revoke_link(link_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                      container: ContainerDep) -> Response:
    """Revoke a portal link: it stops opening at once (410). Revoking it again changes nothing."""
    if not await revoke_portal_link(container.uow, link_id, "admin", container.clock.now()):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no portal link {link_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def base_url(settings: Settings) -> str:
    """Where the links point: ``ACORDO_PUBLIC_URL``, else this server's own address."""
    return settings.own_url()
