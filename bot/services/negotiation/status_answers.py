"""Answers to "quanto devo?" that agree with what the debtor has already done.

A debtor with a pending payment claim is told the claim's status first; a debtor with an
agreement in force gets its remaining installments and the next due date (their debts are
``in_agreement``, so the open-debt list alone would say "nothing open"). Without either the
usual ``debt_details`` answer stands (``DebtorRequests._debt_details``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.conversation.outcome import Reply
from bot.services.negotiation.debtor_file import DebtorFile
from bot.services.negotiation.payment_claims import claim_variables
from bot.storage import models as db

ZERO = Decimal("0.00")


def agreement_variables(agreement: db.Agreement) -> dict[str, Any]:
    """``agreement.*``: the unpaid installments (what is left of each), their total, the next."""
    remaining = [
        {"number": i.number, "due_date": i.due_date, "amount": max(i.amount - i.paid_amount, ZERO),
         "late": i.status == db.InstallmentStatus.LATE.value}
        for i in sorted(agreement.installments, key=lambda i: i.number)
        if i.status != db.InstallmentStatus.PAID.value and i.amount > i.paid_amount
    ]
    return {
        "kind": agreement.kind,
        "total": agreement.total,
        "count": len(agreement.installments),
        "remaining": remaining,
        "left": sum((max(i.amount - i.paid_amount, ZERO) for i in agreement.installments
                     if i.status != db.InstallmentStatus.PAID.value), ZERO),
        "next": remaining[0] if remaining else None,
    }


@dataclass(frozen=True)
class StatusAnswer:
    """``replies`` first; ``complete`` when nothing else is to be said (a claim is pending, or
    no debt is open outside the agreement), else the open debts follow."""

    replies: tuple[Reply, ...] = ()
    complete: bool = False


async def status_answer(file: DebtorFile) -> StatusAnswer:
    """The claim's status and the agreement's remaining installments (none: nothing to add)."""
    replies: list[Reply] = []
    claim = await file.uow.claims.pending_for(file.debtor.id)
    if claim is not None:
        replies.append(Reply("payment_claim_status",
                             {**file.common, "claim": claim_variables(claim)}))
    agreements = await file.uow.agreements.agreements_for(file.debtor.id)
    active = [a for a in agreements if a.status == db.AgreementStatus.ACTIVE.value]
    if active:
        replies.append(Reply("agreement_status",
                             {**file.common, "agreement": agreement_variables(active[-1])}))
    complete = bool(replies) and (claim is not None or not file.debts)
    return StatusAnswer(tuple(replies), complete)
