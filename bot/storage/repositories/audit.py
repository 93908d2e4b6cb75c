"""The append-only audit log of who did what."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    AuditEvent,
)
from bot.storage.types import json_safe


class AuditLog:
    """Append-only record of who did what (bot, system, ``agent:<name>``, admin)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        kind: str,
        actor: str,
        *,
        debtor_id: int | None = None,
        conversation_id: int | None = None,
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEvent:
        event = AuditEvent(
            kind=kind,
            actor=actor,
            debtor_id=debtor_id,
            conversation_id=conversation_id,
            data=json_safe(data) if data is not None else {},
        )
        if at is not None:
            event.at = at
        self.session.add(event)
        await self.session.flush()
        return event

    async def for_debtor(self, debtor_id: int) -> list[AuditEvent]:
        """The debtor's events, oldest first."""
        result = await self.session.scalars(
            select(AuditEvent).where(AuditEvent.debtor_id == debtor_id).order_by(AuditEvent.id)
        )
        return list(result)
