"""Payment claims at the agent desk: the queue of claims to check, confirm and reject.

A claim (``bot/storage/claim_models.py``) waits ``pending`` until an agent looks at it:

- **Confirm** records the payment through the one payment path (``PortfolioService.
  record_payment``, the same as ``POST /api/v1/payments``) with the reference
  ``claim-<id>``, so a repeat (a double click, two agents at once) records it once; the
  agent may correct the amount and choose the debt. The claim is ``confirmed``, the debtor
  is told (``payment_claim_confirmed``) and the audit log says who did it.
- **Reject** needs a reason: the claim is ``rejected``, the debtor gets a polite message
  with the reason (``payment_claim_rejected``) and the régua resumes (it pauses only while
  a claim is pending, ``bot/cadence/plan.py``).

Messages go through :meth:`OutgoingMessages.queue` to the contact the claim came from,
unless that contact opted out or is the wrong person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from bot import schemas
from bot.clock import Clock
from bot.conversation.outcome import Reply
from bot.policies import PolicyBook
from bot.services.agent_desk.errors import DeskError, NotFound
from bot.services.audit_kinds import AuditKind
from bot.services.conversation import clean_text
from bot.services.negotiation.payment_claims import claim_variables
from bot.services.outgoing import OutgoingMessages
from bot.services.portfolio import PortfolioService, UnknownDebt
from bot.services.staff_accounts import StaffIdentity
from bot.storage import models as db
from bot.storage.claim_models import ClaimStatus, PaymentClaim
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

MAX_REASON_CHARS = 500
COLLECTABLE = (db.DebtStatus.OPEN.value, db.DebtStatus.IN_AGREEMENT.value,
               db.DebtStatus.DISPUTED.value)


@dataclass(frozen=True)
class AttachmentLine:
    id: int
    content_type: str
    size: int


@dataclass(frozen=True)
class ClaimDebt:
    external_id: str
    unpaid: Decimal
    status: str


@dataclass(frozen=True)
class ClaimView:
    """What the agent sees of a claim (plain values for the staff page and the API)."""

    id: int
    status: str
    debtor_external_id: str
    debtor_name: str
    creditor: str
    amount: Decimal | None
    paid_on: date | None
    reference: str | None
    bank: str | None
    text: str
    created_at: datetime
    conversation: str | None  # the conversation's public id
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution_note: str | None = None
    payment_amount: Decimal | None = None
    attachments: list[AttachmentLine] = field(default_factory=list)
    debts: list[ClaimDebt] = field(default_factory=list)


def claim_view(claim: PaymentClaim, debtor: db.Debtor, conversation: str | None,
               debts: list[db.Debt]) -> ClaimView:
    return ClaimView(
        claim.id, claim.status, debtor.external_id, debtor.name, debtor.creditor_id, claim.amount,
        claim.paid_on, claim.reference, claim.bank, claim.text, claim.created_at, conversation,
        claim.resolved_by, claim.resolved_at, claim.resolution_note, claim.payment_amount,
        [AttachmentLine(a.id, a.content_type, a.size) for a in claim.attachments],
        [ClaimDebt(d.external_id, d.unpaid_amount, d.status) for d in debts
         if d.status in COLLECTABLE])


class ClaimDesk:
    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook, clock: Clock,
                 portfolio: PortfolioService, outgoing: OutgoingMessages) -> None:
        self._uow = uow
        self._policies = policies
        self._clock = clock
        self._portfolio = portfolio
        self._outgoing = outgoing

    # -- reading ----------------------------------------------------------------------------

    async def pending(self) -> list[ClaimView]:
        """Claims waiting for an agent, oldest first."""
        async with self._uow() as uow:
            return [await self._view(uow, claim) for claim in await uow.claims.pending()]

    async def view(self, claim_id: int) -> ClaimView:
        async with self._uow() as uow:
            return await self._view(uow, await self._claim(uow, claim_id))

    async def attachment(self, claim_id: int, attachment_id: int) -> tuple[str, bytes]:
        """A receipt's content type and bytes (stored in the database)."""
        async with self._uow() as uow:
            found = await uow.claims.attachment(attachment_id)
            if found is None or found.claim_id != claim_id or found.content is None:
                raise NotFound(f"no attachment {attachment_id} on claim {claim_id}")
            return found.content_type, found.content

    # -- deciding ---------------------------------------------------------------------------

    async def confirm(self, staff: StaffIdentity, claim_id: int, *, amount: Decimal | None = None,
                      debt: str | None = None) -> schemas.PaymentOut:
        """Record the claimed payment and close the claim (see the module docstring)."""
        payment = await self._payment(claim_id, amount, debt)
        try:
            recorded = await self._portfolio.record_payment(payment)
        except UnknownDebt as exc:
            raise DeskError(str(exc)) from exc
        async with self._uow() as uow:
            claim = await self._pending(uow, claim_id)
            now = self._clock.now()
            await uow.claims.resolve(claim, ClaimStatus.CONFIRMED, actor=staff.actor, at=now,
                                     payment_amount=payment.amount)
            await uow.audit.record(
                AuditKind.PAYMENT_CLAIM_CONFIRMED, staff.actor, debtor_id=claim.debtor_id,
                conversation_id=claim.conversation_id, at=now,
                data={"claim_id": claim.id, "debt": payment.debt_external_id,
                      "amount": str(payment.amount), "claimed_amount": _text(claim.amount),
                      "reference": payment.reference, "duplicate": recorded.duplicate})
            balance = await self._balance(uow, claim.debtor_id)
            await self._tell(uow, claim, "payment_claim_confirmed",
                             {"amount": payment.amount, "balance": balance})
            await uow.commit()
        return recorded

    async def reject(self, staff: StaffIdentity, claim_id: int, reason: str) -> None:
        """Close the claim as not found, tell the debtor why; the régua resumes."""
        reason = clean_text(reason).strip()[:MAX_REASON_CHARS]
        if not reason:
            raise DeskError("give the reason for the rejection (the debtor reads it)")
        if reason[-1] not in ".!?":
            reason += "."
        async with self._uow() as uow:
            claim = await self._pending(uow, claim_id)
            now = self._clock.now()
            await uow.claims.resolve(claim, ClaimStatus.REJECTED, actor=staff.actor, at=now,
                                     note=reason)
            await uow.audit.record(
                AuditKind.PAYMENT_CLAIM_REJECTED, staff.actor, debtor_id=claim.debtor_id,
                conversation_id=claim.conversation_id, at=now,
                data={"claim_id": claim.id, "reason": reason})
            await self._tell(uow, claim, "payment_claim_rejected", {"reason": reason})
            await uow.commit()

    # -- helpers ----------------------------------------------------------------------------

    async def _payment(self, claim_id: int, amount: Decimal | None,
                       debt: str | None) -> schemas.PaymentIn:
        async with self._uow() as uow:
            claim = await self._pending(uow, claim_id)
            debtor = await uow.portfolio.debtor_with_contacts(claim.debtor_id)
            assert debtor is not None
            open_debts = [d for d in await uow.portfolio.debts_for(debtor.id, COLLECTABLE)
                          if d.unpaid_amount > 0]
            chosen = next((d for d in open_debts if d.external_id == debt), None) if debt else (
                open_debts[0] if open_debts else None)
            if chosen is None:
                raise DeskError(f"no unpaid debt {debt!r} of this debtor" if debt
                                else "the debtor has no unpaid debt to apply the payment to")
            amount = amount if amount is not None else claim.amount
            if amount is None:
                raise DeskError("the claim states no amount: type the amount paid")
            zone = ZoneInfo(debtor.timezone)
            paid_at = (datetime.combine(claim.paid_on, time(12), tzinfo=zone) if claim.paid_on
                       else claim.created_at)
            try:
                return schemas.PaymentIn.model_validate({
                    "debt_external_id": chosen.external_id, "amount": f"{amount:.2f}",
                    "paid_at": paid_at, "creditor": debtor.creditor_id,
                    "reference": f"claim-{claim.id}"})
            except ValidationError as exc:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                     for e in exc.errors())
                raise DeskError(f"the payment cannot be recorded: {problems}") from exc

    async def _claim(self, uow: UnitOfWork, claim_id: int) -> PaymentClaim:
        claim = await uow.claims.get(claim_id)
        if claim is None:
            raise NotFound(f"no payment claim {claim_id}")
        return claim

    async def _pending(self, uow: UnitOfWork, claim_id: int) -> PaymentClaim:
        claim = await uow.claims.get_for_update(claim_id)
        if claim is None:
            raise NotFound(f"no payment claim {claim_id}")
        if claim.status != ClaimStatus.PENDING.value:
            raise DeskError(f"this claim is {claim.status} already"
                            + (f" (by {claim.resolved_by})" if claim.resolved_by else ""))
        return claim

    async def _view(self, uow: UnitOfWork, claim: PaymentClaim) -> ClaimView:
        debtor = await uow.session.get(db.Debtor, claim.debtor_id)
        assert debtor is not None
        conversation = (await uow.session.get(db.Conversation, claim.conversation_id)
                        if claim.conversation_id else None)
        debts = await uow.portfolio.debts_for(debtor.id)
        return claim_view(claim, debtor, conversation.public_id if conversation else None, debts)

    async def _balance(self, uow: UnitOfWork, debtor_id: int) -> Decimal:
        debts = await uow.portfolio.debts_for(debtor_id, COLLECTABLE)
        return sum((d.unpaid_amount for d in debts), Decimal("0.00"))

    async def _tell(self, uow: UnitOfWork, claim: PaymentClaim, template: str,
                    variables: dict[str, Any]) -> None:
        """The claim's answer to the contact it came from (none for a contact we may not write)."""
        if claim.conversation_id is None:
            return
        conversation = await uow.session.get(db.Conversation, claim.conversation_id)
        if conversation is None:
            return
        contact = await uow.session.get(db.Contact, conversation.contact_id)
        if contact is None or contact.status in (db.ContactStatus.OPTED_OUT.value,
                                                 db.ContactStatus.WRONG_PERSON.value):
            return
        debtor = await uow.session.get(db.Debtor, contact.debtor_id)
        assert debtor is not None
        policy = self._policies[debtor.creditor_id]
        common = {"creditor_name": policy.creditor.name, "debtor_name": debtor.name,
                  "contact_name": (contact.name or "").split(" ")[0]}
        reply = Reply(template, {**common, "claim": claim_variables(claim), **variables})
        await self._outgoing.queue(uow, contact, [reply], f"claim:{claim.id}:{claim.status}:"
                                   + "{index}", debtor=debtor, conversation=conversation)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
