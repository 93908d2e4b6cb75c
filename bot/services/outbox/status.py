"""Outbox row statuses against delivery states, and what an unreachable contact means."""

from __future__ import annotations

from bot.channels.base import (
    DeliveryState,
)
from bot.services.audit_kinds import AuditKind
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage, OutboxStatus
from bot.storage.uow import UnitOfWork

OUTBOX_STATE = {
    OutboxStatus.PENDING: DeliveryState.QUEUED, OutboxStatus.SENDING: DeliveryState.QUEUED,
    OutboxStatus.SENT: DeliveryState.SENT, OutboxStatus.FAILED: DeliveryState.FAILED,
    OutboxStatus.DELIVERED: DeliveryState.DELIVERED, OutboxStatus.READ: DeliveryState.READ,
}
STATE_OUTBOX = {DeliveryState.SENT: OutboxStatus.SENT, DeliveryState.FAILED: OutboxStatus.FAILED,
                 DeliveryState.DELIVERED: OutboxStatus.DELIVERED, DeliveryState.READ: OutboxStatus.READ}

def message_state(status: str) -> str:
    return status if status in DeliveryState.__members__.values() else DeliveryState.QUEUED.value


async def mark_unreachable(uow: UnitOfWork, row: OutboxMessage, reason: str) -> None:
    """The contact cannot be reached on this channel: mark it (unless opted out) and audit."""
    contact = await uow.session.get(db.Contact, row.contact_id) if row.contact_id else None
    if contact is None:
        contact = await uow.portfolio.find_contact(row.channel, row.address)
    if contact is not None and contact.status == db.ContactStatus.ACTIVE:
        contact.status = db.ContactStatus.UNREACHABLE.value
        await uow.audit.record(
            AuditKind.CONTACT_UNREACHABLE, "system", debtor_id=contact.debtor_id,
            data={"channel": row.channel, "address": row.address, "reason": reason[:300]})
    await uow.outbox.fail_unfinished(row.channel, row.address, "unreachable", row.id)
