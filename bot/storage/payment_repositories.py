"""Repositories of payments: payments received, promises, charges, allocations, follow-up events.

Like the other repositories they add, change and flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.storage.dialect import upsert_into
from bot.storage.models import Debt, DebtStatus, Payment
from bot.storage.payment_models import (
    ChargeStatus,
    FollowUpEvent,
    PaymentAllocation,
    PaymentCharge,
    Promise,
    PromiseStatus,
)
from bot.storage.repositories.errors import PaymentTooLarge
from bot.storage.types import MAX_MONEY, MAX_PAYMENT, to_money


class PromiseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, *, debtor_id: int, promised_date: date, balance: Decimal,
                  amount: Decimal | None = None, conversation_id: int | None = None,
                  at: datetime | None = None) -> Promise:
        """A new pending promise; an older pending promise of the debtor is cancelled."""
        await self.cancel_pending(debtor_id)
        promise = Promise(debtor_id=debtor_id, conversation_id=conversation_id,
                          promised_date=promised_date, balance=to_money(balance),
                          amount=to_money(amount) if amount is not None else None,
                          status=PromiseStatus.PENDING.value)
        if at is not None:
            promise.created_at = at
        self.session.add(promise)
        await self.session.flush()
        return promise

    async def cancel_pending(self, debtor_id: int) -> None:
        await self.session.execute(
            update(Promise).where(Promise.debtor_id == debtor_id,
                                  Promise.status == PromiseStatus.PENDING.value)
            .values(status=PromiseStatus.CANCELLED.value)
            .execution_options(synchronize_session="fetch"))

    async def pending(self, debtor_id: int | None = None) -> list[Promise]:
        query = select(Promise).where(Promise.status == PromiseStatus.PENDING.value)
        if debtor_id is not None:
            query = query.where(Promise.debtor_id == debtor_id)
        return list(await self.session.scalars(query.order_by(Promise.id)))

    async def for_debtor(self, debtor_id: int) -> list[Promise]:
        return list(await self.session.scalars(
            select(Promise).where(Promise.debtor_id == debtor_id).order_by(Promise.id)))

    async def get(self, promise_id: int) -> Promise | None:
        return await self.session.get(Promise, promise_id)


class ChargeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_txid(self, txid: str) -> PaymentCharge | None:
        return await self.session.scalar(select(PaymentCharge).where(PaymentCharge.txid == txid))

    async def open_for_installment(self, installment_id: int) -> PaymentCharge | None:
        return await self.session.scalar(
            select(PaymentCharge).where(PaymentCharge.installment_id == installment_id,
                                        PaymentCharge.status == ChargeStatus.OPEN.value)
            .order_by(PaymentCharge.id.desc()).limit(1))

    async def open_for_promise(self, promise_id: int) -> PaymentCharge | None:
        return await self.session.scalar(
            select(PaymentCharge).where(PaymentCharge.promise_id == promise_id,
                                        PaymentCharge.status == ChargeStatus.OPEN.value)
            .order_by(PaymentCharge.id.desc()).limit(1))

    async def add(self, charge: PaymentCharge) -> PaymentCharge:
        self.session.add(charge)
        await self.session.flush()
        return charge

    async def add_once(self, charge: PaymentCharge) -> PaymentCharge:
        """Add ``charge``, or answer the one stored with its txid (two requests racing to
        issue the same deterministic txid store it once)."""
        try:
            async with self.session.begin_nested():
                self.session.add(charge)
                await self.session.flush()
        except IntegrityError:
            stored = await self.by_txid(charge.txid)
            if stored is None:
                raise
            return stored
        return charge

    async def count_for(self, *, installment_id: int | None, promise_id: int | None) -> int:
        """How many charges (any status) were issued for this installment or promise."""
        query = select(func.count(PaymentCharge.id))
        if installment_id is not None:
            query = query.where(PaymentCharge.installment_id == installment_id)
        else:
            query = query.where(PaymentCharge.promise_id == promise_id)
        return int(await self.session.scalar(query) or 0)

    async def mark_paid(self, installment_ids: Sequence[int], at: datetime) -> None:
        if installment_ids:
            await self.session.execute(
                update(PaymentCharge).where(PaymentCharge.installment_id.in_(list(installment_ids)),
                                            PaymentCharge.status == ChargeStatus.OPEN.value)
                .values(status=ChargeStatus.PAID.value, paid_at=at)
                .execution_options(synchronize_session="fetch"))

    async def cancel_open(self, installment_ids: Sequence[int]) -> None:
        """The open charges of these installments are cancelled (flushed with the session)."""
        for charge in await self.session.scalars(select(PaymentCharge).where(
                PaymentCharge.installment_id.in_(list(installment_ids)),
                PaymentCharge.status == ChargeStatus.OPEN.value)):
            charge.status = ChargeStatus.CANCELLED.value

    async def add_allocation(self, payment_id: int, installment_id: int, amount: Decimal) -> None:
        self.session.add(PaymentAllocation(payment_id=payment_id, installment_id=installment_id,
                                           amount=to_money(amount)))
        await self.session.flush()


class FollowUpLog:
    """Which follow-ups were done, by key; a key is done once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def done_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            found.update(await self.session.scalars(
                select(FollowUpEvent.key).where(FollowUpEvent.key.in_(chunk))))
        return found

    async def record(self, key: str, kind: str, debtor_id: int, day: date, at: datetime) -> None:
        self.session.add(FollowUpEvent(key=key, kind=kind, debtor_id=debtor_id, day=day, at=at))
        await self.session.flush()

    async def claim(self, key: str, kind: str, debtor_id: int, day: date, at: datetime) -> bool:
        """Take ``key`` (an insert that does nothing when it exists); ``False`` if another
        run holds it."""
        statement = upsert_into(self.session, FollowUpEvent.__table__).values(  # type: ignore[arg-type]
            key=key, kind=kind, debtor_id=debtor_id, day=day, at=at)
        claimed = await self.session.execute(statement.on_conflict_do_nothing(index_elements=["key"]))
        return bool(getattr(claimed, "rowcount", 0))


class PaymentRepository:
    """Payments received against debts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        debt: Debt,
        amount: Decimal | str,
        paid_at: datetime,
        reference: str | None = None,
    ) -> Payment:
        """Record a payment (see :meth:`record_once`) and return it, or the first one with
        the same ``reference`` (re-imported bank files)."""
        payment, _repeat = await self.record_once(debt, amount, paid_at, reference)
        return payment

    async def record_once(
        self,
        debt: Debt,
        amount: Decimal | str,
        paid_at: datetime,
        reference: str | None = None,
    ) -> tuple[Payment, bool]:
        """Record a payment and add it to the debt's ``paid_amount``; ``(payment, False)``.

        The debt changes by one atomic statement (``paid_amount = paid_amount + x``, its
        status ``paid`` once that reaches the amount), so payments arriving together all
        count. A ``reference`` is unique per creditor: when the creditor already has it
        (recorded before, or by a request racing this one: the unique index decides) the
        first payment is returned as ``(first, True)`` and nothing changes. Amounts must be
        positive and at most :data:`MAX_PAYMENT`; a payment that would take the debt's paid
        total past what the column holds raises :class:`PaymentTooLarge`.
        """
        money = to_money(amount)
        if money <= 0:
            raise ValueError(f"a payment must be positive, got {money}")
        if money > MAX_PAYMENT:
            raise PaymentTooLarge(f"a payment is at most {MAX_PAYMENT}, got {money}")
        if reference is not None:
            first = await self.by_reference(debt.creditor_id, reference)
            if first is not None:
                return first, True
        payment = Payment(debt_id=debt.id, creditor_id=debt.creditor_id, amount=money,
                          paid_at=paid_at, reference=reference)
        try:
            async with self.session.begin_nested():
                self.session.add(payment)
        except IntegrityError:
            first = None if reference is None else await self.by_reference(debt.creditor_id, reference)
            if first is None:
                raise
            return first, True
        total = Debt.paid_amount + money
        row = (await self.session.execute(
            update(Debt)
            .where(Debt.id == debt.id, total <= MAX_MONEY)
            .values(paid_amount=func.round(total, 2),
                    status=case((total >= Debt.amount, DebtStatus.PAID.value), else_=Debt.status))
            .returning(Debt.paid_amount, Debt.status)
            .execution_options(synchronize_session=False)
        )).one_or_none()
        if row is None:
            raise PaymentTooLarge(f"the debt's paid total would pass {MAX_MONEY}")
        set_committed_value(debt, "paid_amount", row[0])
        set_committed_value(debt, "status", row[1])
        return payment, False

    async def by_reference(self, creditor_id: str, reference: str) -> Payment | None:
        """The creditor's payment with ``reference`` (the first, by the unique index)."""
        return await self.session.scalar(
            select(Payment).where(Payment.creditor_id == creditor_id, Payment.reference == reference)
            .execution_options(populate_existing=True))

    async def for_debt(self, debt_id: int) -> list[Payment]:
        result = await self.session.scalars(
            select(Payment).where(Payment.debt_id == debt_id).order_by(Payment.paid_at, Payment.id)
        )
        return list(result)

    async def total_paid(self, debt_id: int) -> Decimal:
        """Sum of the debt's payments, computed by the database."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.debt_id == debt_id)
        )
        return to_money(total if isinstance(total, Decimal) else Decimal(repr(total)))
