"""Enqueue outbound messages and apply the providers' status reports (forward only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import (
    DeliveryReport,
    DeliveryState,
    is_forward,
)
from bot.services.outbox.status import OUTBOX_STATE, STATE_OUTBOX, mark_unreachable, message_state
from bot.storage import models as db
from bot.storage.channel_models import OutboxStatus
from bot.storage.channel_repositories import OutboxRepository


class Outbox:
    """Enqueue messages and apply provider status reports (forward only)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def enqueue(self, **fields: Any) -> int:
        """Queue one message (see :meth:`OutboxRepository.enqueue`); its outbox id."""
        async with self._sessions() as session:
            row = await OutboxRepository(session).enqueue(**fields)
            await session.commit()
            return row.id

    async def apply_report(self, report: DeliveryReport) -> bool:
        """Move the message's status forward; ``False`` if unknown or not a step forward."""
        async with self._sessions() as session:
            row = await OutboxRepository(session).by_provider_id(report.provider_id)
            if row is None:
                return False
            current = OUTBOX_STATE[OutboxStatus(row.status)]
            if not is_forward(current, report.state):
                return False
            row.status = STATE_OUTBOX[report.state].value
            if report.error_code:
                row.last_error = f"provider error {report.error_code}"
            if row.message_id is not None:
                message = await session.get(db.Message, row.message_id)
                if message is not None and is_forward(message_state(message.status), report.state):
                    message.status = report.state.value
            if report.state == DeliveryState.FAILED and report.error_code in {"21610", "63024"}:
                await mark_unreachable(session, row, f"provider error {report.error_code}")
            await session.commit()
            return True
