"""Portfolio upserts, payments and the debtor view used by the API and the CLI."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.api import schemas
from bot.negotiation.balance import DebtPosition, balance_on
from bot.policies import PolicyBook
from bot.services.audit_kinds import AuditKind
from bot.services.cadence import cancel_pending
from bot.services.clock import Clock
from bot.services.payments import PaymentDesk, debt_for_txid, installment_numbers
from bot.services.portfolio_bulk import BulkPortfolioWriter
from bot.storage import models as db
from bot.storage.repositories import (
    AgreementRepository,
    AuditLog,
    ConversationRepository,
    PaymentRepository,
    PortfolioRepository,
)

BATCH_DEBTORS = 2_000  # debtors per set-wise upsert (one transaction each)


class UnknownCreditor(ValueError):
    def __init__(self, creditor: str) -> None:
        super().__init__(f"unknown creditor {creditor!r}: no policies/{creditor}.yaml is loaded")
        self.creditor = creditor


class UnknownDebt(LookupError):
    pass


class PortfolioService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policies: PolicyBook,
                 clock: Clock, payments: PaymentDesk | None = None) -> None:
        self._sessions = sessions
        self._policies = policies
        self._clock = clock
        self._payments = payments

    async def ensure_creditors(self) -> None:
        """Every loaded policy has its creditor row."""
        async with self._sessions() as session:
            repo = PortfolioRepository(session)
            for creditor_id, policy in self._policies.items():
                await repo.upsert_creditor(creditor_id, policy.creditor.name,
                                           policy.creditor.tax_id)
            await session.commit()

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
        async with self._sessions() as session:
            result = await BulkPortfolioWriter(session, creditor, self._clock.now()).write(items)
            await session.commit()
        report.debtors += result.debtors
        report.contacts += result.contacts
        report.debts += result.debts
        report.rejected.extend(result.rejected)

    async def record_import(self, report: schemas.ImportReport) -> None:
        async with self._sessions() as session:
            await AuditLog(session).record(
                AuditKind.PORTFOLIO_IMPORTED, "admin",
                data={"creditor": report.creditor, "debtors": report.debtors,
                      "debts": report.debts, "rejected": len(report.rejected)},
            )
            await session.commit()

    async def _upsert_debtor(self, repo: PortfolioRepository, creditor: str,
                             item: schemas.DebtorIn) -> None:
        """One debtor through the repository (single changes; imports go set-wise)."""
        debtor = await repo.upsert_debtor(creditor, item.external_id, item.name, item.tax_id,
                                          item.timezone, item.locale)
        for contact in item.contacts:
            await repo.upsert_contact(debtor, contact.name, contact.channel, contact.address,
                                      locale=contact.locale, timezone=contact.timezone)
        for debt in item.debts:
            await repo.upsert_debt(debtor, debt.external_id, debt.amount, debt.currency,
                                   debt.due_date, debt.description)

    async def record_payment(self, payment: schemas.PaymentIn) -> schemas.PaymentOut:
        async with self._sessions() as session:
            repo = PortfolioRepository(session)
            if payment.txid is not None:
                debt = await debt_for_txid(session, payment.txid)
                if debt is None:
                    raise UnknownDebt(f"no charge with txid {payment.txid!r}")
            else:
                debt = await repo.get_debt(payment.debt_external_id or "", payment.creditor)
            if debt is None:
                raise UnknownDebt(f"no debt with external_id {payment.debt_external_id!r}")
            payments = PaymentRepository(session)
            reference = payment.reference or payment.txid
            duplicate = reference is not None and any(
                p.reference == reference for p in await payments.for_debt(debt.id))
            stored = await payments.record(debt, payment.amount, payment.paid_at, reference)
            if duplicate:
                return schemas.PaymentOut(
                    debt_external_id=debt.external_id, amount=payment.amount,
                    paid_at=payment.paid_at, debt_status=debt.status,
                    debt_balance=self._balance(debt, self._today(debt)), duplicate=True)
            await AuditLog(session).record(
                AuditKind.PAYMENT_RECORDED, "admin", debtor_id=debt.debtor_id,
                data={"debt": debt.external_id, "amount": str(payment.amount),
                      "paid_at": payment.paid_at.isoformat(), "txid": payment.txid},
            )
            settled = (await self._payments.settle(session, debt, stored, self._clock.now())
                       if self._payments is not None else None)
            if debt.status == db.DebtStatus.PAID:  # a paid debt leaves the régua at once
                await cancel_pending(session, [debt.id], "paid", self._clock.now())
            await session.commit()
            balance = self._balance(debt, self._today(debt))
            numbers = await installment_numbers(session, settled.allocated if settled else {})
            return schemas.PaymentOut(
                debt_external_id=debt.external_id, amount=payment.amount, paid_at=payment.paid_at,
                debt_status=debt.status, debt_balance=balance,
                installments=[schemas.AllocationOut(number=numbers[i], amount=a)
                              for i, a in (settled.allocated.items() if settled else ())],
                agreement_status=settled.agreement_status if settled else None)

    async def debtor_view(self, external_id: str,
                          creditor: str | None = None) -> schemas.DebtorOut | None:
        async with self._sessions() as session:
            repo = PortfolioRepository(session)
            debtor = await repo.get_debtor(external_id, creditor)
            if debtor is None:
                return None
            debts = await repo.debts_for(debtor.id)
            agreements = await AgreementRepository(session).agreements_for(debtor.id)
            conversations = ConversationRepository(session)
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


def _agreement_view(agreement: db.Agreement) -> schemas.AgreementOut:
    return schemas.AgreementOut(
        kind=agreement.kind, total=agreement.total, discount_percent=agreement.discount_percent,
        installments=[schemas.InstallmentOut(number=i.number, due_date=i.due_date,
                                             amount=i.amount, status=i.status)
                      for i in sorted(agreement.installments, key=lambda i: i.number)],
        status=agreement.status, created_by=agreement.created_by, created_at=agreement.created_at,
    )
