"""Portfolio upserts, payments, write-offs and the debtor view used by the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot import schemas
from bot.clock import Clock
from bot.negotiation.balance import DebtPosition, balance_on
from bot.policies import PolicyBook
from bot.services.audit_kinds import AuditKind
from bot.services.payments import PaymentDesk, debt_for_txid, installment_numbers
from bot.services.portfolio_bulk import BulkPortfolioWriter
from bot.storage import models as db
from bot.storage.claim_models import PaymentClaim
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

BATCH_DEBTORS = 2_000  # debtors per set-wise upsert (one transaction each)


class UnknownCreditor(ValueError):
    def __init__(self, creditor: str) -> None:
        super().__init__(f"unknown creditor {creditor!r}: no policies/{creditor}.yaml is loaded")
        self.creditor = creditor


class UnknownDebt(LookupError):
    pass


class DebtNotCollectable(ValueError):
    """The debt cannot be written off as it stands (paid, written off, in an agreement)."""

    def __init__(self, external_id: str, status: str, why: str) -> None:
        super().__init__(f"debt {external_id!r} is {why}: nothing to write off")
        self.external_id = external_id
        self.status = status


@dataclass(frozen=True)
class WriteOff:
    """A debt the creditor gave up on: what was outstanding and what was withdrawn."""

    creditor: str
    debt_external_id: str
    debtor_external_id: str
    previous_status: str
    outstanding: Decimal  # face amount not paid
    balance: Decimal  # with the policy's fees and interest, on the debtor's today
    contacts_withdrawn: int  # régua reminders taken back before they went
    promises_cancelled: int
    reason: str
    actor: str
    at: datetime


class PortfolioService:
    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook,
                 clock: Clock, payments: PaymentDesk | None = None) -> None:
        self._uow = uow
        self._policies = policies
        self._clock = clock
        self._payments = payments

    async def ensure_creditors(self) -> None:
        """Every loaded policy has its creditor row."""
        async with self._uow() as uow:
            for creditor_id, policy in self._policies.items():
                await uow.portfolio.upsert_creditor(creditor_id, policy.creditor.name,
                                                    policy.creditor.tax_id)
            await uow.commit()

    async def import_portfolio(self, portfolio: schemas.PortfolioIn, *,
                               first_row: int = 0) -> schemas.ImportReport:
        """Upsert every debtor; a debtor that conflicts is reported and the others stored."""
        if portfolio.creditor not in self._policies:
            raise UnknownCreditor(portfolio.creditor)
        report = schemas.ImportReport(creditor=portfolio.creditor)
        items = [(first_row + index, item) for index, item in enumerate(portfolio.debtors)]
        for start in range(0, max(len(items), 1), BATCH_DEBTORS):
            await self.import_batch(portfolio.creditor, items[start:start + BATCH_DEBTORS], report)
        await self.record_import(report)
        return report

    async def import_batch(self, creditor: str, items: list[tuple[int, schemas.DebtorIn]],
                           report: schemas.ImportReport) -> None:
        """Upsert one batch of debtors set-wise (one transaction); counts and rejections go to
        ``report`` (each rejected debtor with the row number it came with)."""
        if creditor not in self._policies:
            raise UnknownCreditor(creditor)
        if not items:
            return
        async with self._uow() as uow:
            result = await BulkPortfolioWriter(uow.session, creditor, self._clock.now()).write(items)
            await uow.commit()
        report.debtors += result.debtors
        report.contacts += result.contacts
        report.debts += result.debts
        report.rejected.extend(result.rejected)

    async def record_import(self, report: schemas.ImportReport) -> None:
        async with self._uow() as uow:
            await uow.audit.record(
                AuditKind.PORTFOLIO_IMPORTED, "admin",
                data={"creditor": report.creditor, "debtors": report.debtors,
                      "debts": report.debts, "rejected": len(report.rejected)},
            )
            await uow.commit()

    async def record_payment(self, payment: schemas.PaymentIn) -> schemas.PaymentOut:
        async with self._uow() as uow:
            if payment.txid is not None:
                debt = await debt_for_txid(uow.session, payment.txid)
                if debt is None:
                    raise UnknownDebt(f"no charge with txid {payment.txid!r}")
            else:
                debt = await uow.portfolio.get_debt(payment.debt_external_id or "", payment.creditor)
            if debt is None:
                raise UnknownDebt(f"no debt with external_id {payment.debt_external_id!r}")
            written_off = debt.status == db.DebtStatus.WRITTEN_OFF
            reference = payment.reference or payment.txid
            stored, repeat = await uow.payments.record_once(debt, payment.amount, payment.paid_at,
                                                            reference)
            if repeat:  # the creditor has this reference: answer with the first payment
                first_debt = await uow.portfolio.debt_with_debtor(stored.debt_id)
                assert first_debt is not None
                return schemas.PaymentOut(
                    debt_external_id=first_debt.external_id, amount=stored.amount,
                    paid_at=stored.paid_at, debt_status=first_debt.status,
                    debt_balance=self._balance(first_debt, self._today(first_debt)), duplicate=True)
            recovered = {"written_off": True} if written_off else {}  # paid after the write-off
            await uow.audit.record(
                AuditKind.PAYMENT_RECORDED, "admin", debtor_id=debt.debtor_id,
                data={"debt": debt.external_id, "amount": str(payment.amount),
                      "paid_at": payment.paid_at.isoformat(), "txid": payment.txid, **recovered},
            )
            settled = (await self._payments.settle(uow.session, debt, stored, self._clock.now())
                       if self._payments is not None else None)
            if debt.status == db.DebtStatus.PAID:  # a paid debt leaves the régua at once
                await uow.cadence_contacts.cancel_pending([debt.id], "paid", self._clock.now())
            await uow.commit()
            balance = self._balance(debt, self._today(debt))
            numbers = await installment_numbers(uow.session, settled.allocated if settled else {})
            return schemas.PaymentOut(
                debt_external_id=debt.external_id, amount=payment.amount, paid_at=payment.paid_at,
                debt_status=debt.status, debt_balance=balance,
                installments=[schemas.AllocationOut(number=numbers[i], amount=a)
                              for i, a in (settled.allocated.items() if settled else ())],
                agreement_status=settled.agreement_status if settled else None)

    async def write_off(self, external_id: str, creditor: str, reason: str, actor: str) -> WriteOff:
        """Give up on a debt, in one transaction: status ``written_off``, its régua reminders not
        yet sent withdrawn, the debtor's pending promise cancelled when nothing else is being
        collected, offers in the debtor's conversations withdrawn (they counted this debt), an
        audit event. A debt paid or written off already, or in an active agreement, is refused
        (:class:`DebtNotCollectable`). Payments that arrive later are still recorded."""
        if creditor not in self._policies:
            raise UnknownCreditor(creditor)
        reason = reason.strip()
        if not reason:
            raise ValueError("give the reason for the write-off")
        async with self._uow() as uow:
            debt = await uow.portfolio.debt_to_change(external_id, creditor)
            if debt is None:
                raise UnknownDebt(f"no debt {external_id!r} of creditor {creditor!r}")
            _refuse_write_off(debt)
            debtor = await uow.portfolio.debtor_with_contacts(debt.debtor_id)
            assert debtor is not None
            now = self._clock.now()
            previous, outstanding = debt.status, debt.unpaid_amount
            balance = self._balance(debt, self._today_for(debtor))
            debt.status = db.DebtStatus.WRITTEN_OFF.value
            withdrawn = await uow.cadence_contacts.cancel_pending([debt.id], "written_off", now)
            promises = 0
            if not await uow.portfolio.collects_other_debt(debtor.id, debt.id):
                promises = len(await uow.promises.pending(debtor.id))
                await uow.promises.cancel_pending(debtor.id)
            await _withdraw_offers(uow, debtor)
            await uow.audit.record(
                AuditKind.DEBT_WRITTEN_OFF, actor, debtor_id=debtor.id, at=now,
                data={"creditor": creditor, "debt": debt.external_id, "reason": reason[:500],
                      "previous_status": previous, "outstanding": str(outstanding),
                      "balance": str(balance), "contacts_withdrawn": withdrawn,
                      "promises_cancelled": promises})
            await uow.commit()
            return WriteOff(creditor, debt.external_id, debtor.external_id, previous, outstanding, balance,
                            withdrawn, promises, reason, actor, now)

    async def debtor_view(self, external_id: str,
                          creditor: str | None = None) -> schemas.DebtorOut | None:
        async with self._uow() as uow:
            debtor = await uow.portfolio.get_debtor(external_id, creditor)
            if debtor is None:
                return None
            debts = await uow.portfolio.debts_for(debtor.id)
            agreements = await uow.agreements.agreements_for(debtor.id)
            conversations = uow.conversations
            conversation_views = []
            for contact in debtor.contacts:
                conversation = await conversations.for_contact(contact.id)
                if conversation is None:
                    continue
                messages = await conversations.messages(conversation.id)
                conversation_views.append(schemas.ConversationOut(
                    channel=conversation.channel, address=conversation.address,
                    state=conversation.state,
                    messages=[schemas.MessageOut(direction=m.direction, author=m.author,
                                                 text=m.text, at=m.created_at,
                                                 template=m.template) for m in messages],
                ))
            today = self._today_for(debtor)
            return schemas.DebtorOut(
                external_id=debtor.external_id, name=debtor.name, tax_id=debtor.tax_id or "",
                creditor=debtor.creditor_id,
                debts=[schemas.DebtOut(external_id=d.external_id, amount=d.amount,
                                       balance=self._balance(d, today), due_date=d.due_date,
                                       status=d.status, description=d.description or "")
                       for d in debts],
                agreements=[_agreement_view(a) for a in agreements],
                conversations=conversation_views,
                claims=[_claim_view(c) for c in await uow.claims.for_debtor(debtor.id)],
            )

    def _balance(self, debt: db.Debt, today: date) -> Decimal:
        if debt.status == "paid":
            return Decimal("0.00")
        policy = self._policies.get(debt.creditor_id)
        position = DebtPosition(external_id=debt.external_id, principal=debt.amount,
                                due_date=debt.due_date, paid=debt.paid_amount)
        if policy is None:
            return max(debt.amount - debt.paid_amount, Decimal("0.00"))
        return balance_on(position, today, policy.charges)

    def _today(self, debt: db.Debt) -> date:
        return self._today_for(debt.debtor)

    def _today_for(self, debtor: db.Debtor) -> date:
        return self._clock.now().astimezone(ZoneInfo(debtor.timezone)).date()


def _refuse_write_off(debt: db.Debt) -> None:
    """Raise :class:`DebtNotCollectable` when ``debt`` cannot be written off as it stands."""
    if debt.status == db.DebtStatus.WRITTEN_OFF:
        raise DebtNotCollectable(debt.external_id, debt.status, "written off already")
    if debt.status == db.DebtStatus.PAID or debt.paid_amount >= debt.amount:
        raise DebtNotCollectable(debt.external_id, db.DebtStatus.PAID.value, "paid")
    if debt.status == db.DebtStatus.IN_AGREEMENT:
        raise DebtNotCollectable(debt.external_id, debt.status,
                                 "in an active agreement (it can be written off once it breaks)")


async def _withdraw_offers(uow: UnitOfWork, debtor: db.Debtor) -> None:
    """Offers proposed in the debtor's conversations are superseded (they counted the debt)."""
    for contact in debtor.contacts:
        conversation = await uow.conversations.for_contact(contact.id)
        if conversation is None:
            continue
        if await uow.agreements.mark_offers(conversation.id, db.OfferStatus.PROPOSED,
                                            db.OfferStatus.SUPERSEDED):
            conversation.negotiation = None  # the offer counted the debt: start afresh


def _claim_view(claim: PaymentClaim) -> schemas.ClaimOut:
    return schemas.ClaimOut(
        id=claim.id, status=claim.status, amount=claim.amount, paid_on=claim.paid_on,  # type: ignore[arg-type]
        reference=claim.reference, bank=claim.bank, text=claim.text,
        attachments=len(claim.attachments), created_at=claim.created_at,
        resolved_by=claim.resolved_by, resolved_at=claim.resolved_at,
        resolution_note=claim.resolution_note)


def _agreement_view(agreement: db.Agreement) -> schemas.AgreementOut:
    return schemas.AgreementOut(
        kind=agreement.kind, total=agreement.total, discount_percent=agreement.discount_percent,
        installments=[schemas.InstallmentOut(number=i.number, due_date=i.due_date,
                                             amount=i.amount, status=i.status)
                      for i in sorted(agreement.installments, key=lambda i: i.number)],
        status=agreement.status, created_by=agreement.created_by, created_at=agreement.created_at,
    )
