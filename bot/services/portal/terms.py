"""The facts of the "termo de acordo" (the agreement's terms as a document), from storage.

The parties (creditor from the policy, debtor), the debts the agreement covers, its
schedule with each installment's PIX charge where one was issued, and the acceptance
record: when (the ``agreement_created`` audit event), through which link (its id, never
the token) and from which address.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.debtor_file import DebtorFile
from bot.services.portal.views import CoveredDebt, TermsDocument, TermsLine
from bot.storage import models as db
from bot.storage.payment_models import ChargeStatus, PaymentCharge

# The agreements whose terms a debtor may download: in force, or already kept.
WITH_TERMS = (db.AgreementStatus.ACTIVE.value, db.AgreementStatus.KEPT.value)


async def latest_agreement(file: DebtorFile) -> db.Agreement | None:
    """The debtor's newest agreement in force or kept (installments and debts loaded)."""
    agreements = [a for a in await file.uow.agreements.agreements_for(file.debtor.id)
                  if a.status in WITH_TERMS]
    return agreements[-1] if agreements else None


async def terms_of(file: DebtorFile, agreement: db.Agreement) -> TermsDocument:
    """The terms document of ``agreement`` (one of ``file``'s debtor)."""
    session = file.uow.session
    created = await session.scalars(
        select(db.AuditEvent).where(db.AuditEvent.debtor_id == file.debtor.id,
                                    db.AuditEvent.kind == AuditKind.AGREEMENT_CREATED.value)
        .order_by(db.AuditEvent.id))
    event = next((e for e in created if (e.data or {}).get("agreement_id") == agreement.id), None)
    acceptance = dict((event.data or {}).get("acceptance") or {}) if event else {}
    ids = [i.id for i in agreement.installments]
    charges = {c.installment_id: c for c in await session.scalars(
        select(PaymentCharge).where(PaymentCharge.installment_id.in_(ids),
                                    PaymentCharge.status != ChargeStatus.CANCELLED.value)
        .order_by(PaymentCharge.id))} if ids else {}
    schedule = []
    for item in sorted(agreement.installments, key=lambda i: i.number):
        charge = charges.get(item.id)
        schedule.append(TermsLine(item.number, item.due_date, item.amount,
                                  charge.txid if charge else None,
                                  charge.amount if charge else None))
    creditor = file.policy.creditor
    return TermsDocument(
        creditor.name, creditor.tax_id, file.debtor.name, file.debtor.tax_id or "",
        file.contact.locale or file.debtor.locale,
        file.contact.timezone or file.debtor.timezone or creditor.timezone,
        agreement.id, agreement.kind, agreement.total, agreement.discount_percent,
        agreement.created_by,
        [CoveredDebt(d.external_id, d.description or "", d.due_date, d.amount)
         for d in agreement.debts],
        schedule, event.at if event else agreement.created_at,
        acceptance.get("link_id"), acceptance.get("ip"))
