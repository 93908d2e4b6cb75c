"""Repositories of the payments tables: promises, charges, allocations, follow-up events.

Like the other repositories they add, change and flush; the caller commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.payment_models import (
    ChargeStatus,
    FollowUpEvent,
    PaymentAllocation,
    PaymentCharge,
    Promise,
    PromiseStatus,
)
from bot.storage.types import to_money


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

    async def mark_paid(self, installment_ids: Sequence[int], at: datetime) -> None:
        if installment_ids:
            await self.session.execute(
                update(PaymentCharge).where(PaymentCharge.installment_id.in_(list(installment_ids)),
                                            PaymentCharge.status == ChargeStatus.OPEN.value)
                .values(status=ChargeStatus.PAID.value, paid_at=at)
                .execution_options(synchronize_session="fetch"))

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
