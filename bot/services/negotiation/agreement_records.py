"""The records of an offer and of an agreement: one place for the chat and the portal page.

:func:`store_offer` supersedes the conversation's pending offer and stores the new one;
:func:`record_agreement` turns the conversation's pending offer into an active agreement
over the debtor's open debts, audited, and cancels the debtor's pending promises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.negotiation.offers import Offer
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.debtor_file import DebtorFile
from bot.storage import models as db


async def store_offer(file: DebtorFile, offer: Offer) -> db.Offer:
    """The conversation's new pending offer (the previous one superseded), audited."""
    agreements = file.uow.agreements
    await agreements.mark_offers(file.conversation.id, "proposed", "superseded")
    row = await agreements.add_offer(
        conversation_id=file.conversation.id, debtor_id=file.debtor.id, offer=offer
    )
    await file.uow.audit.record(
        AuditKind.OFFER_MADE, offer.created_by, debtor_id=file.debtor.id,
        conversation_id=file.conversation.id,
        data={"kind": offer.kind, "total": str(offer.total), "count": offer.count,
              "discount_percent": str(offer.discount_percent)},
    )
    return row


async def record_agreement(file: DebtorFile, offer: Offer, created_by: str | None = None,
                           actor: str = "bot",
                           acceptance: Mapping[str, Any] | None = None) -> db.Agreement:
    """The agreement on ``offer`` (the conversation's pending offer row, stored if missing),
    created by ``created_by`` (default: the offer's author), audited with ``actor``;
    ``acceptance``: how it was accepted (the portal's link id and address), kept in the
    audit event's ``data.acceptance``."""
    agreements = file.uow.agreements
    conversation = file.conversation
    author = created_by or offer.created_by
    row = await agreements.latest_offer(conversation.id, status="proposed")
    if row is None:
        row = await agreements.add_offer(conversation_id=conversation.id,
                                         debtor_id=file.debtor.id, offer=offer)
    agreement = await agreements.create_agreement(file.debtor.id, row, file.debts,
                                                  created_by=author)
    await file.uow.audit.record(
        AuditKind.AGREEMENT_CREATED, actor,
        debtor_id=file.debtor.id, conversation_id=conversation.id,
        data={"agreement_id": agreement.id, "kind": offer.kind, "total": str(offer.total),
              "count": offer.count, "created_by": author,
              **({"acceptance": dict(acceptance)} if acceptance else {})},
    )
    await file.uow.promises.cancel_pending(file.debtor.id)
    return agreement
