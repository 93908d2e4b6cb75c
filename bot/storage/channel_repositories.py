"""Repositories of the channel tables: the outbox, stored inbound updates and link tokens.

Like the other repositories they add, change and flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.message_parts import MediaRef, fits_caption, text_parts
from bot.storage.channel_models import (
    InboundStatus,
    InboundUpdate,
    Initiator,
    OutboxMessage,
    OutboxStatus,
    TelegramLinkToken,
)
from bot.storage.types import json_safe

UNFINISHED = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def enqueue(self, *, channel: str, address: str, text: str, idempotency_key: str,
                      contact_id: int | None = None, message_id: int | None = None,
                      buttons: Sequence[Mapping[str, Any]] | None = None,
                      template: str | None = None, template_vars: Mapping[str, Any] | None = None,
                      locale: str | None = None, initiated_by: str = Initiator.REPLY,
                      not_before: datetime | None = None, media: MediaRef | None = None,
                      not_after: datetime | None = None) -> OutboxMessage:
        """Queue a message once: a known ``idempotency_key`` returns the queued row unchanged.

        ``not_before`` / ``not_after``: the message goes no earlier than the first and never at
        or after the second (a régua reminder's contact window; the dispatcher withdraws it
        as ``outside_hours`` instead of sending late).

        ``media``: a picture sent with the text as its caption. A text too long for a caption
        gets a row of its own, queued just before it (key ``<key>:picture``, the picture alone,
        no conversation message): each row is one send under the rate limits.

        A text longer than one send of the channel carries (Telegram 4,096, WhatsApp 1,600:
        :data:`~bot.message_parts.TEXT_LIMITS`) is queued as one row per part, in order:
        ``<key>:part1``, ``<key>:part2``, … and the last under ``key`` itself with the buttons,
        the template and the conversation message (whose delivery it reports). Each part is
        then sent once under the rate limits, and a retry never resends an earlier part.
        """
        existing = await self.by_key(idempotency_key)
        if existing is not None:
            return existing
        *heads, last = text_parts(channel, text)
        for number, head in enumerate(heads, start=1):
            await self.enqueue(channel=channel, address=address, text=head,
                               idempotency_key=f"{idempotency_key}:part{number}", contact_id=contact_id,
                               locale=locale, initiated_by=initiated_by, not_before=not_before,
                               media=media if number == 1 else None, not_after=not_after)
        if heads:
            text, media = last, None  # the picture went with the first part
        if media is not None and text and not fits_caption(text):
            await self.enqueue(channel=channel, address=address, text="",
                               idempotency_key=f"{idempotency_key}:picture", contact_id=contact_id,
                               locale=locale, initiated_by=initiated_by, not_before=not_before,
                               media=media, not_after=not_after)
            media = None
        row = OutboxMessage(
            channel=channel, address=address, text=text, idempotency_key=idempotency_key,
            contact_id=contact_id, message_id=message_id,
            buttons=json_safe(list(buttons)) if buttons else None, template=template,
            template_vars=json_safe(dict(template_vars)) if template_vars else None, locale=locale,
            media_kind=media.kind if media else None, media_ref=media.ref if media else None,
            initiated_by=str(initiated_by), status=OutboxStatus.PENDING.value, attempts=0,
            not_after=not_after,
        )
        if not_before is not None:
            row.next_attempt_at = not_before
        async with self.session.begin_nested():
            self.session.add(row)
        return row

    async def by_key(self, key: str) -> OutboxMessage | None:
        return await self.session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == key))

    async def by_provider_id(self, provider_id: str) -> OutboxMessage | None:
        return await self.session.scalar(
            select(OutboxMessage).where(OutboxMessage.provider_id == provider_id).limit(1))

    async def claim(self, worker: str, now: datetime, lease_until: datetime, limit: int,
                    channels: Sequence[str]) -> list[OutboxMessage]:
        """Claim due rows that head their chat's queue (at most one per chat, oldest first).

        Only the oldest unfinished row of a (channel, address) is claimable, so a chat's
        messages go out in order even across dispatcher processes. Rows whose claimer
        died (lease expired) are claimable again.
        """
        earlier = aliased(OutboxMessage)
        due = or_(
            and_(OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.next_attempt_at <= now),
            and_(OutboxMessage.status == OutboxStatus.SENDING.value, OutboxMessage.lease_until < now),
        )
        blocked = exists().where(
            earlier.channel == OutboxMessage.channel, earlier.address == OutboxMessage.address,
            earlier.id < OutboxMessage.id, earlier.status.in_(UNFINISHED),
        )
        ids = list(await self.session.scalars(
            select(OutboxMessage.id)
            .where(due, ~blocked, OutboxMessage.channel.in_(list(channels)))
            .order_by(OutboxMessage.id).limit(limit)
            .with_for_update(skip_locked=True)
        ))
        if not ids:
            return []
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), due)
            .values(status=OutboxStatus.SENDING.value, claimed_by=worker, lease_until=lease_until)
            .execution_options(synchronize_session=False)
        )
        rows = await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker,
                   OutboxMessage.status == OutboxStatus.SENDING.value)
            .order_by(OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def renew(self, ids: Sequence[int], worker: str, lease_until: datetime) -> None:
        if ids:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.claimed_by == worker,
                       OutboxMessage.status == OutboxStatus.SENDING.value)
                .values(lease_until=lease_until)
                .execution_options(synchronize_session=False)
            )

    async def release(self, ids: Sequence[int], worker: str) -> None:
        """Give claimed rows back (a dispatcher stopping)."""
        if ids:
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.claimed_by == worker,
                       OutboxMessage.status == OutboxStatus.SENDING.value)
                .values(status=OutboxStatus.PENDING.value, lease_until=None, claimed_by=None)
                .execution_options(synchronize_session=False)
            )

    async def cancel_bot_initiated(self, contact_ids: Sequence[int], reason: str) -> int:
        result = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.contact_id.in_(list(contact_ids)),
                   OutboxMessage.initiated_by == Initiator.BOT.value,
                   OutboxMessage.status == OutboxStatus.PENDING.value)
            .values(status=OutboxStatus.CANCELLED.value, last_error=reason[:500])
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def fail_unfinished(self, channel: str, address: str, reason: str, except_id: int) -> None:
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.channel == channel, OutboxMessage.address == address,
                   OutboxMessage.status == OutboxStatus.PENDING.value, OutboxMessage.id != except_id)
            .values(status=OutboxStatus.FAILED.value, last_error=reason[:500])
            .execution_options(synchronize_session=False)
        )

    async def unfinished(self, channels: Sequence[str]) -> list[OutboxMessage]:
        """The pending and sending rows of ``channels``, oldest first."""
        return list(await self.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status.in_(UNFINISHED), OutboxMessage.channel.in_(list(channels)))
            .order_by(OutboxMessage.id)))

    async def record(self, row_id: int, **values: Any) -> None:
        """Write a claimed row's outcome (sent, retried, failed, cancelled): ``values`` by column."""
        await self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values)
            .execution_options(synchronize_session=False))


class InboundUpdateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(self, channel: str, provider_key: str, payload: Mapping[str, Any]) -> int | None:
        """Store an inbound delivery; ``None`` if this (channel, key) was stored before."""
        existing = await self.session.scalar(
            select(InboundUpdate.id).where(InboundUpdate.channel == channel,
                                           InboundUpdate.provider_key == provider_key))
        if existing is not None:
            return None
        row = InboundUpdate(channel=channel, provider_key=provider_key, payload=dict(payload),
                            status=InboundStatus.RECEIVED.value, attempts=0)
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return None  # a concurrent delivery of the same update won
        return row.id

    async def claim(self, now: datetime, lease_until: datetime, update_id: int | None = None
                    ) -> InboundUpdate | None:
        """Claim one update to process: ``update_id``, or the oldest waiting/abandoned one."""
        waiting = or_(InboundUpdate.status == InboundStatus.RECEIVED.value,
                      and_(InboundUpdate.status == InboundStatus.PROCESSING.value,
                           InboundUpdate.lease_until < now))
        query = select(InboundUpdate.id).where(waiting)
        if update_id is not None:
            query = query.where(InboundUpdate.id == update_id)
        candidate = await self.session.scalar(
            query.order_by(InboundUpdate.id).limit(1).with_for_update(skip_locked=True))
        if candidate is None:
            return None
        result = await self.session.execute(
            update(InboundUpdate).where(InboundUpdate.id == candidate, waiting)
            .values(status=InboundStatus.PROCESSING.value, lease_until=lease_until,
                    attempts=InboundUpdate.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return None
        return await self.session.get(InboundUpdate, candidate, populate_existing=True)

    async def finish(self, update_id: int, status: InboundStatus, at: datetime, error: str | None,
                     attempt: int | None) -> bool:
        """Record the outcome of ``update_id``: held by us (processing on claim ``attempt``)
        or free to claim (then claimed and finished at once); ``False`` if another holds it."""
        waiting = or_(InboundUpdate.status == InboundStatus.RECEIVED.value,
                      and_(InboundUpdate.status == InboundStatus.PROCESSING.value,
                           InboundUpdate.lease_until < at))
        held = and_(InboundUpdate.status == InboundStatus.PROCESSING.value,
                    InboundUpdate.attempts == (attempt if attempt is not None else -1))
        result = await self.session.execute(
            update(InboundUpdate).where(InboundUpdate.id == update_id, or_(held, waiting))
            .values(status=status.value, processed_at=at, error=error, lease_until=None,
                    attempts=case((held, InboundUpdate.attempts), else_=InboundUpdate.attempts + 1))
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


class LinkTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token_hash: str, debtor_id: int, contact_name: str, locale: str | None,
                  expires_at: datetime) -> TelegramLinkToken:
        row = TelegramLinkToken(token_hash=token_hash, debtor_id=debtor_id, contact_name=contact_name,
                                locale=locale, expires_at=expires_at)
        self.session.add(row)
        await self.session.flush()
        return row

    async def by_hash(self, token_hash: str) -> TelegramLinkToken | None:
        return await self.session.scalar(
            select(TelegramLinkToken).where(TelegramLinkToken.token_hash == token_hash))
