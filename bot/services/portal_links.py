"""Issuing a debtor's portal link (``acordo portal link``): choose the web contact it speaks as.

The link speaks as one web contact of the debtor: the one named by ``contact`` (its address
or name), else the debtor's first web contact. A debtor reached on other channels only gets
a web contact for the link, named after the chosen contact, at ``portal:<debtor>:<contact>``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.web_links import PortalLinkSigner
from bot.storage import models as db
from bot.storage.repositories.errors import AmbiguousDebtor
from bot.storage.uow import UnitOfWorkFactory


class PortalLinkError(ValueError):
    """The link cannot be issued as asked (the message says why)."""


@dataclass(frozen=True)
class IssuedPortalLink:
    token: str
    expires_at: datetime
    contact_name: str
    address: str

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/p/{self.token}"


def _chosen(debtor: db.Debtor, contact: str | None) -> db.Contact:
    contacts = list(debtor.contacts)
    if contact is not None:
        wanted = contact.strip().casefold()
        matches = [c for c in contacts if wanted in (c.address.casefold(), c.name.casefold())]
        if not matches:
            raise PortalLinkError(f"debtor {debtor.external_id!r} has no contact {contact!r}")
        return next((c for c in matches if c.channel == "web"), matches[0])
    if not contacts:
        raise PortalLinkError(f"debtor {debtor.external_id!r} has no contact")
    return next((c for c in contacts if c.channel == "web"), contacts[0])


async def issue_portal_link(uow: UnitOfWorkFactory, signer: PortalLinkSigner,
                            debtor_external_id: str, lifetime: timedelta, *,
                            creditor: str | None = None, contact: str | None = None
                            ) -> IssuedPortalLink:
    async with uow() as unit:
        try:
            debtor = await unit.portfolio.get_debtor(debtor_external_id, creditor)
        except AmbiguousDebtor as exc:
            raise PortalLinkError(f"{exc}; name the creditor") from exc
        if debtor is None:
            raise PortalLinkError(f"no debtor {debtor_external_id!r}"
                                  + (f" of creditor {creditor!r}" if creditor else ""))
        chosen = _chosen(debtor, contact)
        if chosen.channel != "web":
            chosen = await unit.portfolio.upsert_contact(debtor, chosen.name, "web",
                                                         f"portal:{debtor.id}:{chosen.id}",
                                                         chosen.locale, chosen.timezone)
            await unit.commit()
        token, link = signer.issue(debtor.creditor_id, debtor.external_id, chosen.address, lifetime)
        return IssuedPortalLink(token, link.expires_at, chosen.name, chosen.address)
