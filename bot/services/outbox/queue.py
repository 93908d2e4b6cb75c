"""Enqueue outbound messages and apply the providers' status reports (forward only)."""

from __future__ import annotations

from typing import Any

from bot.channels.base import (
    DeliveryReport,
    DeliveryState,
    is_forward,
)
from bot.services.outbox.status import OUTBOX_STATE, STATE_OUTBOX, mark_unreachable, message_state
from bot.storage.channel_models import OutboxStatus
from bot.storage.uow import UnitOfWorkFactory


class Outbox:
    """Enqueue messages and apply provider status reports (forward only)."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def enqueue(self, **fields: Any) -> int:
        """Queue one message (see :meth:`~bot.storage.channel_repositories.OutboxRepository.enqueue`);
        its outbox id."""
        async with self._uow() as uow:
            row = await uow.outbox.enqueue(**fields)
            await uow.commit()
            return row.id

    async def apply_report(self, report: DeliveryReport) -> bool:
        """Move the message's status forward; ``False`` if unknown or not a step forward."""
        async with self._uow() as uow:
            row = await uow.outbox.by_provider_id(report.provider_id)
            if row is None:
                return False
            current = OUTBOX_STATE[OutboxStatus(row.status)]
            if not is_forward(current, report.state):
                return False
            row.status = STATE_OUTBOX[report.state].value
            if report.error_code:
                row.last_error = f"provider error {report.error_code}"
            if row.message_id is not None:
                message = await uow.conversations.message(row.message_id)
                if message is not None and is_forward(message_state(message.status), report.state):
                    message.status = report.state.value
            if report.state == DeliveryState.FAILED and (
                    report.error_code in {"21610", "63024"}  # Twilio: unsubscribed, blocked
                    or (report.error_code or "").startswith("hard ")):  # an e-mail's hard bounce
                await mark_unreachable(uow, row, f"provider error {report.error_code}")
            await uow.commit()
            return True
