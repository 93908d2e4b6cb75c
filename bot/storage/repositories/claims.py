"""Payment claims and their receipts (``bot/storage/claim_models.py``).

Like the other repositories it adds, changes and flushes; the caller commits.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.claim_models import ClaimAttachment, ClaimStatus, PaymentClaim
from bot.storage.types import to_money

MAX_CLAIM_TEXT = 4000


class ClaimRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def pending_for(self, debtor_id: int) -> PaymentClaim | None:
        """The debtor's pending claim (the newest, should there be more than one)."""
        return await self.session.scalar(
            select(PaymentClaim)
            .where(PaymentClaim.debtor_id == debtor_id,
                   PaymentClaim.status == ClaimStatus.PENDING.value)
            .order_by(PaymentClaim.id.desc()).limit(1))

    async def open(self, *, debtor_id: int, conversation_id: int | None, text: str,
                   at: datetime) -> PaymentClaim:
        claim = PaymentClaim(debtor_id=debtor_id, conversation_id=conversation_id,
                             status=ClaimStatus.PENDING.value, text=text[:MAX_CLAIM_TEXT],
                             created_at=at, updated_at=at, attachments=[])
        self.session.add(claim)
        await self.session.flush()
        return claim

    async def add_details(self, claim: PaymentClaim, *, text: str, at: datetime,
                          amount: Decimal | None = None, paid_on: date | None = None,
                          reference: str | None = None, bank: str | None = None) -> None:
        """Append the message to the claim's text; a value stated now replaces the older one."""
        if text and text not in claim.text.split("\n"):
            joined = f"{claim.text}\n{text}" if claim.text else text
            claim.text = joined[-MAX_CLAIM_TEXT:]
        if amount is not None:
            claim.amount = to_money(amount)
        claim.paid_on = paid_on or claim.paid_on
        claim.reference = (reference or claim.reference or None)
        claim.bank = bank or claim.bank
        claim.updated_at = at
        await self.session.flush()

    async def attach(self, claim: PaymentClaim, *, content_type: str, size: int, at: datetime,
                     message_id: int | None = None, content: bytes | None = None,
                     storage_path: str | None = None) -> ClaimAttachment:
        attachment = ClaimAttachment(message_id=message_id, content_type=content_type, size=size,
                                     content=content, storage_path=storage_path, created_at=at)
        claim.attachments.append(attachment)
        claim.updated_at = at
        await self.session.flush()
        return attachment

    async def has_attachments_from(self, message_id: int) -> bool:
        found = await self.session.scalar(
            select(ClaimAttachment.id).where(ClaimAttachment.message_id == message_id).limit(1))
        return found is not None

    async def get(self, claim_id: int) -> PaymentClaim | None:
        return await self.session.get(PaymentClaim, claim_id)

    async def get_for_update(self, claim_id: int) -> PaymentClaim | None:
        return await self.session.scalar(
            select(PaymentClaim).where(PaymentClaim.id == claim_id).with_for_update())

    async def attachment(self, attachment_id: int) -> ClaimAttachment | None:
        return await self.session.get(ClaimAttachment, attachment_id)

    async def pending(self, limit: int = 200) -> list[PaymentClaim]:
        """Claims waiting for an agent, oldest first."""
        return list(await self.session.scalars(
            select(PaymentClaim).where(PaymentClaim.status == ClaimStatus.PENDING.value)
            .order_by(PaymentClaim.created_at, PaymentClaim.id).limit(limit)))

    async def for_debtor(self, debtor_id: int) -> list[PaymentClaim]:
        return list(await self.session.scalars(
            select(PaymentClaim).where(PaymentClaim.debtor_id == debtor_id)
            .order_by(PaymentClaim.id)))

    async def resolve(self, claim: PaymentClaim, status: ClaimStatus, *, actor: str, at: datetime,
                      note: str | None = None, payment_amount: Decimal | None = None) -> None:
        claim.status = status.value
        claim.resolved_by = actor
        claim.resolved_at = at
        claim.updated_at = at
        claim.resolution_note = note
        claim.payment_amount = to_money(payment_amount) if payment_amount is not None else None
        await self.session.flush()
