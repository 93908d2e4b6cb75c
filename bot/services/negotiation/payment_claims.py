"""The debtor's payment claims in the conversation: "já pagamos" opens one, details follow.

- ``already_paid`` opens a *payment claim* (``bot/storage/claim_models.py``), or adds to the
  one still pending for the debtor, and says it will be checked; it asks for the receipt or
  the payment's details only when the claim has none yet.
- While a claim is pending, a message that carries payment details (a reference, a bank, a
  receipt, a past date, "paguei"…; :func:`bot.understanding.payment_claims.carries_payment_details`)
  is added to the claim whatever intent the NLU gave it: it is never read as a proposal or
  an acceptance. The debtor is thanked, never asked the same thing again.

An agent confirms or rejects the claim at the desk (``bot/services/agent_desk/claims.py``);
while it is pending the régua leaves the debtor alone (``bot/cadence/plan.py``).
"""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.conversation import commands as cmd
from bot.conversation.outcome import Outcome, Reply
from bot.dialogue.names import Slot
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.debtor_file import DebtorFile
from bot.services.outgoing import locale_of
from bot.storage.claim_models import PaymentClaim
from bot.storage.dialect import serialize_on
from bot.storage.models import Debtor
from bot.storage.tables import table_of
from bot.storage.types import MAX_PAYMENT
from bot.understanding.payment_claims import carries_payment_details, parse_payment_claim

# Commands a claim's follow-up may arrive as (whatever Rasa read it as). Hand-offs, opt-outs,
# wrong person, hardship and the proposal form's own steps keep their meaning.
FOLLOW_UP_COMMANDS: tuple[type[cmd.Command], ...] = (
    cmd.EvaluateProposal, cmd.OfferFullPayment, cmd.OfferDiscount, cmd.OfferInstallments,
    cmd.AcceptOffer, cmd.RefuseOffer, cmd.Acknowledge, cmd.Clarify, cmd.RecordPromise,
    cmd.ExplainPaymentMethod, cmd.DeclineOutOfScope, cmd.Greet, cmd.ScheduleCallback,
)


def claim_variables(claim: PaymentClaim) -> dict[str, Any]:
    """The plain template values of a claim (``claim.*`` in the payment_claim_* templates)."""
    return {
        "status": claim.status,
        "amount": claim.amount,
        "paid_on": claim.paid_on,
        "reference": claim.reference or "",
        "bank": claim.bank or "",
        "attachments": len(claim.attachments),
        "opened_on": claim.created_at.date(),
    }


def has_details(claim: PaymentClaim) -> bool:
    return bool(claim.attachments) or any(
        v is not None for v in (claim.amount, claim.paid_on, claim.reference, claim.bank))


async def record_claim(file: DebtorFile, text: str, clock: Clock) -> Outcome:
    """``already_paid``: open a claim (or add to the pending one) and say it will be checked.
    Two reports of one debtor at once run one after the other: the second finds the first's
    claim instead of opening another (``bot/storage/dialect.py``)."""
    claims = file.uow.claims
    await serialize_on(file.uow.session, table_of(Debtor), file.debtor.id)
    claim = await claims.pending_for(file.debtor.id)
    if claim is None:
        claim = await claims.open(debtor_id=file.debtor.id, conversation_id=file.conversation.id,
                                  text="", at=clock.now())
        await _add(file, claim, text, clock)
        # The "already paid" report the audit trail has always had, now naming its claim.
        await file.uow.audit.record(
            AuditKind.ALREADY_PAID_REPORTED, "bot", debtor_id=file.debtor.id,
            conversation_id=file.conversation.id, data={"text": text[:500], "claim_id": claim.id})
        variables = {**file.common, "claim": claim_variables(claim),
                     "asks_details": not has_details(claim)}
        return Outcome((Reply("payment_claim_received", variables),), offer_pending=False)
    return await _follow_up(file, claim, text, clock)


async def claim_follow_up(file: DebtorFile, command: cmd.Command, clock: Clock) -> Outcome | None:
    """The reply when ``command`` adds details to the debtor's pending claim; ``None`` when it
    does not (no claim pending, or a message that is not about the payment made)."""
    if not isinstance(command, FOLLOW_UP_COMMANDS):
        return None
    if not carries_payment_details(command.text, file.today, locale_of(file.contact, file.debtor)):
        return None
    claim = await file.uow.claims.pending_for(file.debtor.id)
    if claim is None:
        return None
    outcome = await _follow_up(file, claim, command.text, clock)
    if isinstance(command, cmd.EvaluateProposal):  # leave the proposal form's slots clean
        outcome = Outcome(outcome.replies, outcome.offer_pending, outcome.paused,
                          {Slot.TERMS_MISSING.value: False, Slot.PROPOSAL_TEXT.value: None})
    return outcome


async def goes_to_claim(file: DebtorFile, text: str) -> bool:
    """Whether ``text`` carries payment details while the debtor has a claim pending: the
    proposal form then keeps it as the answer, so that the form's end reaches
    :func:`claim_follow_up` (as the claim's details) instead of asking for terms again."""
    if not carries_payment_details(text, file.today, locale_of(file.contact, file.debtor)):
        return False
    return await file.uow.claims.pending_for(file.debtor.id) is not None


async def _follow_up(file: DebtorFile, claim: PaymentClaim, text: str, clock: Clock) -> Outcome:
    await _add(file, claim, text, clock)
    await file.uow.audit.record(
        AuditKind.PAYMENT_CLAIM_DETAILS, "bot", debtor_id=file.debtor.id,
        conversation_id=file.conversation.id, data={"claim_id": claim.id, "text": text[:500]})
    variables = {**file.common, "claim": claim_variables(claim),
                 "asks_details": not has_details(claim)}
    return Outcome((Reply("payment_claim_details_recorded", variables),), offer_pending=False)


async def _add(file: DebtorFile, claim: PaymentClaim, text: str, clock: Clock) -> None:
    parsed = parse_payment_claim(text, file.today, locale_of(file.contact, file.debtor))
    amount = parsed.amount if parsed.amount is not None and 0 < parsed.amount <= MAX_PAYMENT else None
    await file.uow.claims.add_details(claim, text=text.strip(), at=clock.now(), amount=amount,
                                      paid_on=parsed.paid_on, reference=parsed.reference,
                                      bank=parsed.bank)
