"""The stored versions of the message templates edited in the browser (history only grows)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.repositories.errors import VersionTaken
from bot.storage.staff_models import TemplateVersion


class TemplateVersionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def newest_id(self) -> int:
        """The id of the version stored last (0: none); it changes whenever one is saved."""
        return await self.session.scalar(select(func.max(TemplateVersion.id))) or 0

    async def latest(self) -> list[TemplateVersion]:
        """The newest version of every (name, locale, channel)."""
        latest = select(TemplateVersion.name, TemplateVersion.locale, TemplateVersion.channel,
                        func.max(TemplateVersion.version).label("v")).group_by(
            TemplateVersion.name, TemplateVersion.locale, TemplateVersion.channel).subquery()
        rows = await self.session.scalars(select(TemplateVersion).join(latest, (
            (TemplateVersion.name == latest.c.name) & (TemplateVersion.locale == latest.c.locale)
            & (TemplateVersion.channel == latest.c.channel)
            & (TemplateVersion.version == latest.c.v))))
        return list(rows)

    async def all(self) -> list[TemplateVersion]:
        """Every version, in the order they were stored."""
        return list(await self.session.scalars(select(TemplateVersion).order_by(TemplateVersion.id)))

    async def versions_of(self, name: str, locale: str, channel: str) -> list[TemplateVersion]:
        """The versions of one template, newest first."""
        return list(await self.session.scalars(select(TemplateVersion).where(
            TemplateVersion.name == name, TemplateVersion.locale == locale,
            TemplateVersion.channel == channel).order_by(TemplateVersion.version.desc())))

    async def get(self, version_id: int) -> TemplateVersion | None:
        return await self.session.get(TemplateVersion, version_id)

    async def add(self, name: str, locale: str, channel: str, source: str, *,
                  content_sid: str | None, author: str, restored_from: int | None,
                  at: datetime) -> TemplateVersion:
        """Store ``source`` as the next version of (name, locale, channel); ``VersionTaken``
        when a concurrent transaction stored that number first."""
        number = (await self.session.scalar(select(func.max(TemplateVersion.version)).where(
            TemplateVersion.name == name, TemplateVersion.locale == locale,
            TemplateVersion.channel == channel)) or 0) + 1
        row = TemplateVersion(name=name, locale=locale, channel=channel, version=number,
                              source=source, content_sid=content_sid, author=author,
                              restored_from=restored_from, created_at=at)
        self.session.add(row)
        try:
            await self.session.flush()
        except IntegrityError as exc:  # a concurrent save took the number: the caller retries
            raise VersionTaken(f"{locale}/{name} [{channel}] version {number} is taken") from exc
        return row
