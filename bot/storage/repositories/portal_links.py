"""Stored portal links: found by their token's hash, revoked, and their uses counted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.portal_link_models import StoredPortalLink


class PortalLinkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, token_hash: str, debtor_id: int, contact_id: int, issued_by: str,
                  issued_at: datetime, expires_at: datetime) -> StoredPortalLink:
        row = StoredPortalLink(token_hash=token_hash, debtor_id=debtor_id, contact_id=contact_id,
                               issued_by=issued_by, issued_at=issued_at, expires_at=expires_at,
                               use_count=0)
        self.session.add(row)
        await self.session.flush()
        return row

    async def by_hash(self, token_hash: str) -> StoredPortalLink | None:
        found: StoredPortalLink | None = await self.session.scalar(
            select(StoredPortalLink).where(StoredPortalLink.token_hash == token_hash))
        return found

    async def get(self, link_id: int) -> StoredPortalLink | None:
        return await self.session.get(StoredPortalLink, link_id)

    async def for_debtor(self, debtor_id: int) -> list[StoredPortalLink]:
        """The debtor's links, oldest first."""
        rows = await self.session.scalars(select(StoredPortalLink).where(
            StoredPortalLink.debtor_id == debtor_id).order_by(StoredPortalLink.id))
        return list(rows)

    async def revoke(self, link_id: int, actor: str, at: datetime) -> bool:
        """Revoke the link unless it already is; whether this call revoked it."""
        result = await self.session.execute(
            update(StoredPortalLink)
            .where(StoredPortalLink.id == link_id, StoredPortalLink.revoked_at.is_(None))
            .values(revoked_at=at, revoked_by=actor)
            .execution_options(synchronize_session=False))
        return bool(getattr(result, "rowcount", 0))

    async def record_use(self, link_id: int, at: datetime) -> None:
        """One more use, in one statement: concurrent uses each add one."""
        await self.session.execute(
            update(StoredPortalLink).where(StoredPortalLink.id == link_id)
            .values(use_count=StoredPortalLink.use_count + 1, last_used_at=at)
            .execution_options(synchronize_session=False))
