"""Receipts (pictures, PDFs) a debtor sends go on the debtor's pending payment claim.

A receipt with no claim pending opens one (a debtor who sends a transfer's receipt is
claiming the payment): the audit log has ``already_paid_reported`` with ``receipts``. A
message of receipts alone is thanked with ``payment_claim_details_recorded`` without the
dialogue engine; with text, the dialogue answers as usual (the text is added to the same
claim, ``bot/services/negotiation/payment_claims.py``). A provider's retry of the same
message stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.channels.base import Receipt
from bot.conversation.outcome import Reply
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.payment_claims import claim_variables
from bot.storage import models as db
from bot.storage.dialect import serialize_on
from bot.storage.tables import table_of
from bot.storage.uow import UnitOfWork


async def attach_receipts(uow: UnitOfWork, contact: db.Contact, conversation: db.Conversation,
                          message: db.Message, receipts: Sequence[Receipt]) -> bool:
    """Store ``receipts`` on the debtor's pending claim (opened if none); whether any was."""
    if not receipts or contact.status == db.ContactStatus.WRONG_PERSON.value:
        return False
    claims = uow.claims
    # Receipts of one debtor arriving at once go on one claim (bot/storage/dialect.py).
    await serialize_on(uow.session, table_of(db.Debtor), contact.debtor_id)
    if await claims.has_attachments_from(message.id):
        return True  # a retry of a message whose receipts are stored already
    claim = await claims.pending_for(contact.debtor_id)
    if claim is None:
        claim = await claims.open(debtor_id=contact.debtor_id, conversation_id=conversation.id,
                                  text=message.text, at=message.created_at)
        await uow.audit.record(
            AuditKind.ALREADY_PAID_REPORTED, "bot", debtor_id=contact.debtor_id,
            conversation_id=conversation.id, at=message.created_at,
            data={"text": message.text[:500], "claim_id": claim.id, "receipts": len(receipts)})
    else:
        await uow.audit.record(
            AuditKind.PAYMENT_CLAIM_DETAILS, "bot", debtor_id=contact.debtor_id,
            conversation_id=conversation.id, at=message.created_at,
            data={"claim_id": claim.id, "receipts": len(receipts)})
    for receipt in receipts:
        await claims.attach(claim, content_type=receipt.content_type, size=len(receipt.content),
                            content=receipt.content, message_id=message.id, at=message.created_at)
    return True


async def receipt_replies(uow: UnitOfWork, debtor_id: int) -> list[Reply]:
    """The thanks for receipts sent alone (the claim's details as recorded)."""
    claim = await uow.claims.pending_for(debtor_id)
    if claim is None:  # decided in the meantime: nothing to add
        return [Reply("empty_message")]
    return [Reply("payment_claim_details_recorded",
                  {"claim": claim_variables(claim), "asks_details": False})]
