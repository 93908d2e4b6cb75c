"""Who is speaking on the web channel (``POST``/``GET /channels/web/messages``).

Three ways, checked in this order (docs/channels.md, "Web channel identity"):

1. a portal link token (``token``): the web contact it names, while the token is valid
   (signed, stored, not revoked nor expired: bot/services/portal_links.py) and that
   contact still belongs to the debtor it names;
2. ``sender`` with the admin bearer token: a trusted server-to-server integration;
3. ``sender`` alone, only in demo mode (``ACORDO_DEMO``) and only for a web contact of
   the demo creditor.

Anything else answers 401 and names what is missing; nothing about the address is told.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.bootstrap import Container
from bot.channels.web_links import InvalidLink, PortalLinkSigner
from bot.services.portal_links import LinkUse, signer_of, use_portal_link
from bot.services.web_chat import WebChat

DEMO_CREDITOR = "demo"
NEEDS_IDENTITY = ("a portal link token ('token') is required; 'sender' needs the admin bearer "
                  "token (or demo mode, for the demo creditor's contacts)")
LINK_PROBLEMS = {
    "invalid": "invalid link token",
    "expired": "this link has expired; ask the creditor for a new one",
    "revoked": "this link was revoked; ask the creditor for a new one",
    "unbound": "this link no longer matches a contact; ask the creditor for a new one",
    "off": "portal links are not enabled on this server (ACORDO_LINK_SECRET unset)",
}

# For the routes' OpenAPI: who is refused, and how.
IDENTITY_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid portal link token, or 'sender' without the admin bearer token "
                         "(outside demo mode)"}}

_bearer = HTTPBearer(auto_error=False)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def link_signer(container: Container) -> PortalLinkSigner | None:
    return signer_of(container.settings, container.clock)


def portal_lifetime(container: Container, days: float | None = None) -> timedelta:
    return timedelta(days=days if days is not None else container.settings.portal_link_days)


class LinkRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(LINK_PROBLEMS[reason])
        self.reason = reason


# A valid link and what the portal page shows of it.
BoundLink = LinkUse


async def verified_link(container: Container, token: str, via: str = "page") -> BoundLink:
    """The link of ``token`` at one use (``via``: page, chat or poll), bound to a web contact
    of its debtor; raises :class:`LinkRefused`."""
    signer = link_signer(container)
    if signer is None:
        raise LinkRefused("off")
    try:
        return await use_portal_link(container.uow, signer, token, via)
    except InvalidLink as exc:
        raise LinkRefused(exc.reason) from exc


def is_admin(container: Container, credentials: HTTPAuthorizationCredentials | None) -> bool:
    expected = container.settings.admin_token
    given = credentials.credentials if credentials else ""
    return bool(expected is not None and given and secrets.compare_digest(
        given.encode(), expected.get_secret_value().encode()))


async def is_demo_contact(container: Container, address: str) -> bool:
    return await WebChat(container.uow).is_contact_of(address, DEMO_CREDITOR)


async def web_address(container: Container, credentials: HTTPAuthorizationCredentials | None,
                      token: str | None, sender: str | None, via: str = "chat") -> str:
    """The web contact address the request speaks as, or a 401 naming what is missing."""
    if token:
        try:
            return (await verified_link(container, token, via)).link.address
        except LinkRefused as exc:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    if sender:
        if is_admin(container, credentials):
            return sender
        if container.settings.demo and await is_demo_contact(container, sender):
            return sender
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, NEEDS_IDENTITY,
                        headers={"WWW-Authenticate": "Bearer"})
