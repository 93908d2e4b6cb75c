"""Portal links (``/p/{token}``): issuing, checking each use, listing and revoking them.

A link speaks as one web contact of the debtor: the one named by ``contact`` (its address
or name), else the debtor's first web contact. A debtor reached on other channels only gets
a web contact for the link, named after the chosen contact, at ``portal:<debtor>:<contact>``.

The token is signed (``bot/channels/web_links.py``: a forged one is refused without a
database read) and stored by its SHA-256 only, with who issued it (``cli``, ``api``,
``reminder``, ``bot``, ``agent:<name>``). A use looks the hash up: unknown is ``invalid``
(a token issued before links were stored, or by another server), revoked is ``revoked``.
Issuing a link revokes no other: a debtor may hold several.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.channels.web_links import InvalidLink, PortalLink, PortalLinkSigner, token_hash
from bot.clock import Clock
from bot.config import Settings
from bot.services.audit_kinds import AuditKind
from bot.storage import models as db
from bot.storage.portal_link_models import StoredPortalLink
from bot.storage.repositories.errors import AmbiguousDebtor
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

# A chat message counts as a use; it is audited only when it opens a session (no use of
# the link for this long), so that a conversation does not flood the audit log.
CHAT_SESSION_GAP = timedelta(minutes=30)
# How a use came: the page (a load or an accept), a chat message, a chat poll (not counted).
USES = ("page", "chat", "poll")


class PortalLinkError(ValueError):
    """The link cannot be issued as asked (the message says why)."""


@dataclass(frozen=True)
class IssuedPortalLink:
    id: int
    token: str
    expires_at: datetime
    contact_name: str
    address: str

    def url(self, base: str) -> str:
        return f"{base.rstrip('/')}/p/{self.token}"


@dataclass(frozen=True)
class LinkUse:
    """A valid link at one use, and what the portal page shows of it."""

    link: PortalLink
    link_id: int
    debtor_name: str
    creditor_name: str
    timezone: str


@dataclass(frozen=True)
class PortalLinkSummary:
    """One of a debtor's links as listed to staff: never its token nor its hash."""

    id: int
    contact_name: str
    address: str
    issued_by: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None
    use_count: int


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


async def _debtor(unit: UnitOfWork, debtor_external_id: str, creditor: str | None) -> db.Debtor:
    try:
        debtor = await unit.portfolio.get_debtor(debtor_external_id, creditor)
    except AmbiguousDebtor as exc:
        raise PortalLinkError(f"{exc}; name the creditor") from exc
    if debtor is None:
        raise PortalLinkError(f"no debtor {debtor_external_id!r}"
                              + (f" of creditor {creditor!r}" if creditor else ""))
    return debtor


async def store_portal_link(unit: UnitOfWork, signer: PortalLinkSigner, debtor: db.Debtor,
                            contact: db.Contact, lifetime: timedelta, issued_by: str
                            ) -> IssuedPortalLink:
    """Sign and store a link for ``contact`` (its web twin when on another channel), inside
    the caller's unit of work (the caller commits). Audited as ``portal_link_issued``."""
    if contact.channel != "web":
        contact = await unit.portfolio.upsert_contact(debtor, contact.name, "web",
                                                      f"portal:{debtor.id}:{contact.id}",
                                                      contact.locale, contact.timezone)
    token, link = signer.issue(debtor.creditor_id, debtor.external_id, contact.address, lifetime)
    now = signer.clock.now()
    row = await unit.portal_links.add(token_hash=token_hash(token), debtor_id=debtor.id,
                                      contact_id=contact.id, issued_by=issued_by, issued_at=now,
                                      expires_at=link.expires_at)
    await unit.audit.record(AuditKind.PORTAL_LINK_ISSUED, issued_by, debtor_id=debtor.id,
                            data={"link": row.id, "expires_at": link.expires_at}, at=now)
    return IssuedPortalLink(row.id, token, link.expires_at, contact.name, contact.address)


def signer_of(settings: Settings, clock: Clock) -> PortalLinkSigner | None:
    """The signer of ``ACORDO_LINK_SECRET``; ``None`` when links are off."""
    secret = settings.link_secret
    if secret is None or not secret.get_secret_value():
        return None
    return PortalLinkSigner(secret.get_secret_value(), clock)


class PortalLinkIssuer:
    """Links issued where a debtor needs one: in a reminder (``reminder``), on request in the
    chat (``bot``), from the agent console (``agent:<name>``). Every call issues and stores a
    new link (only hashes are stored, so none can be reused); without a secret: ``""``."""

    def __init__(self, signer: PortalLinkSigner | None, base_url: str, lifetime: timedelta) -> None:
        self._signer = signer
        self._base_url = base_url
        self._lifetime = lifetime

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> PortalLinkIssuer:
        return cls(signer_of(settings, clock), settings.own_url(),
                   timedelta(days=settings.portal_link_days))

    @property
    def enabled(self) -> bool:
        return self._signer is not None

    async def issue(self, unit: UnitOfWork, debtor: db.Debtor, contact: db.Contact,
                    issued_by: str) -> tuple[IssuedPortalLink, str] | None:
        """A new link for ``contact`` and its URL, in the caller's unit (it commits); ``None``
        when links are off."""
        if self._signer is None:
            return None
        issued = await store_portal_link(unit, self._signer, debtor, contact, self._lifetime,
                                         issued_by)
        return issued, issued.url(self._base_url)

    async def url_for(self, unit: UnitOfWork, debtor: db.Debtor, contact: db.Contact,
                      issued_by: str) -> str:
        """A new link's URL for ``contact`` in the caller's unit (it commits); ``""`` when off."""
        issued = await self.issue(unit, debtor, contact, issued_by)
        return issued[1] if issued else ""


async def issue_portal_link(uow: UnitOfWorkFactory, signer: PortalLinkSigner,
                            debtor_external_id: str, lifetime: timedelta, *,
                            creditor: str | None = None, contact: str | None = None,
                            issued_by: str = "cli") -> IssuedPortalLink:
    async with uow() as unit:
        debtor = await _debtor(unit, debtor_external_id, creditor)
        issued = await store_portal_link(unit, signer, debtor, _chosen(debtor, contact),
                                         lifetime, issued_by)
        await unit.commit()
        return issued


def _bound(row: StoredPortalLink, contact: db.Contact | None, debtor: db.Debtor | None,
           link: PortalLink) -> bool:
    """Whether the stored link, its contact and the signed token still agree."""
    return (contact is not None and debtor is not None and contact.debtor_id == row.debtor_id
            and contact.address == link.address
            and (debtor.creditor_id, debtor.external_id) == (link.creditor, link.debtor))


async def use_portal_link(uow: UnitOfWorkFactory, signer: PortalLinkSigner, token: str,
                          via: str) -> LinkUse:
    """The link of ``token`` at one use (``via``: one of :data:`USES`); raises
    :class:`InvalidLink` (``invalid``, ``expired``, ``revoked``, ``unbound``).

    A page load or a chat message counts (``use_count``, ``last_used_at``); page loads and
    chat messages that open a session are audited as ``portal_link_used`` (the link's id,
    never its token)."""
    link = signer.verify(token)  # a forged or expired token never reaches the database
    now = signer.clock.now()
    async with uow() as unit:
        row = await unit.portal_links.by_hash(token_hash(token))
        if row is None:
            raise InvalidLink("invalid")
        if row.revoked_at is not None:
            raise InvalidLink("revoked")
        if row.expires_at <= now:
            raise InvalidLink("expired")
        contact = await unit.session.get(db.Contact, row.contact_id)
        debtor = await unit.session.get(db.Debtor, row.debtor_id)
        if contact is None or debtor is None or not _bound(row, contact, debtor, link):
            raise InvalidLink("unbound")
        if via != "poll":
            await unit.portal_links.record_use(row.id, now)
            opens_session = row.last_used_at is None or now - row.last_used_at >= CHAT_SESSION_GAP
            if via == "page" or opens_session:
                await unit.audit.record(AuditKind.PORTAL_LINK_USED, "portal", debtor_id=row.debtor_id,
                                        data={"link": row.id, "via": via}, at=now)
            await unit.commit()
        creditor = await unit.session.get(db.Creditor, link.creditor)
        return LinkUse(link, row.id, debtor.name, creditor.name if creditor else link.creditor,
                       debtor.timezone)


async def revoke_portal_link(uow: UnitOfWorkFactory, link_id: int, actor: str, at: datetime) -> bool:
    """Revoke link ``link_id`` (again: nothing changes); ``False`` when there is no such link."""
    async with uow() as unit:
        row = await unit.portal_links.get(link_id)
        if row is None:
            return False
        if await unit.portal_links.revoke(link_id, actor, at):
            await unit.audit.record(AuditKind.PORTAL_LINK_REVOKED, actor, debtor_id=row.debtor_id,
                                    data={"link": link_id}, at=at)
        await unit.commit()
        return True


async def debtor_portal_links(uow: UnitOfWorkFactory, debtor_external_id: str,
                              creditor: str | None = None) -> list[PortalLinkSummary]:
    """The debtor's links, oldest first."""
    async with uow() as unit:
        debtor = await _debtor(unit, debtor_external_id, creditor)
        contacts = {c.id: c for c in debtor.contacts}
        summaries = []
        for row in await unit.portal_links.for_debtor(debtor.id):
            contact = contacts.get(row.contact_id) or await unit.session.get(db.Contact, row.contact_id)
            summaries.append(PortalLinkSummary(
                row.id, contact.name if contact else "?", contact.address if contact else "?",
                row.issued_by, row.issued_at, row.expires_at, row.revoked_at, row.revoked_by,
                row.last_used_at, row.use_count))
        return summaries
