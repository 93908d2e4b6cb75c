"""Payment instructions (charges with a txid per installment or promise) and settlement.

- :class:`PaymentDesk.instructions` issues (or reuses) one charge per open installment
  through the creditor's :class:`~bot.payments.provider.PaymentProvider` and returns plain
  template variables (the PIX "copia e cola", the QR image URL).
- :meth:`PaymentDesk.settle` applies a recorded payment: to the installments of the debt's
  active agreement, oldest first (partial payments included); a fully paid agreement is
  ``kept`` and its debts ``paid``; a pending promise whose amount is covered is ``kept``.

Both run inside the caller's session and transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from bot.clock import Clock, SystemClock
from bot.negotiation.followup import InstallmentFacts, allocate
from bot.payments.pix_api import PixApiConfig, PixApiProvider
from bot.payments.provider import ChargeRequest, PaymentProvider, PaymentProviderError, PixProvider
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.services.audit_kinds import AuditKind
from bot.storage import models as db
from bot.storage.payment_models import ChargeStatus, PaymentCharge, Promise, PromiseStatus
from bot.storage.payment_repositories import ChargeRepository, PromiseRepository
from bot.storage.repositories.audit import AuditLog

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")


def new_txid(prefix: str = "AC") -> str:
    """A fresh txid: ``AC`` + 20 hex digits (22 letters and digits; the BR Code allows 25)."""
    return prefix + secrets.token_hex(10).upper()


async def withdraw(provider: PaymentProvider, charge: PaymentCharge) -> None:
    """Ask a PSP that can (``remove_charge``) to withdraw a superseded charge; a refusal is
    logged (a payment to it would still settle by its txid)."""
    remove = getattr(provider, "remove_charge", None)
    if remove is None or charge.provider != provider.name:
        return
    kind = (charge.provider_ref or "cob:").split(":")[0]
    try:
        await remove(charge.txid, kind)
    except PaymentProviderError as exc:
        logger.warning("payment provider %s did not withdraw charge %s: %s", provider.name,
                       charge.txid, exc)


def charge_txid(key: str, length: int) -> str:
    """``AC`` + hex digits of SHA-256 of ``key``: ``length`` letters and digits (26 to 35)."""
    if not 26 <= length <= 35:
        raise ValueError("a PSP txid has 26 to 35 characters")
    return "AC" + hashlib.sha256(key.encode()).hexdigest()[:length - 2].upper()


def providers_for(policies: PolicyBook, override: PaymentProvider | None = None
                  ) -> dict[str, PaymentProvider]:
    """One provider per creditor: ``override`` for all (a PSP adapter, the fake in tests),
    else the built-in static PIX for creditors whose policy has ``creditor.pix_key``."""
    providers: dict[str, PaymentProvider] = {}
    for creditor_id, policy in policies.items():
        if override is not None:
            providers[creditor_id] = override
        elif policy.creditor.pix_key:
            providers[creditor_id] = PixProvider(policy.creditor.pix_key, policy.creditor.name,
                                                 policy.creditor.city)
    return providers


@dataclass
class SettlementResult:
    allocated: dict[int, Decimal] = field(default_factory=dict)  # installment id -> amount
    agreement_id: int | None = None
    agreement_status: str | None = None
    promises_kept: list[int] = field(default_factory=list)


class PaymentDesk:
    def __init__(self, providers: Mapping[str, PaymentProvider], public_url: str | None = None) -> None:
        self._providers = dict(providers)
        self._public_url = (public_url or "").rstrip("/")

    def provider(self, creditor_id: str) -> PaymentProvider | None:
        return self._providers.get(creditor_id)

    def providers(self) -> list[PaymentProvider]:
        """The distinct providers in use (for the webhook route)."""
        unique: dict[int, PaymentProvider] = {id(p): p for p in self._providers.values()}
        return list(unique.values())

    def pix_api(self) -> PixApiProvider | None:
        """The API Pix provider in use, if any (its webhook and reconciliation)."""
        return next((p for p in self.providers() if isinstance(p, PixApiProvider)), None)

    def qr_url(self, txid: str) -> str | None:
        return f"{self._public_url}/pay/{txid}.png" if self._public_url else None

    # -- instructions ---------------------------------------------------------------------

    async def instructions(self, session: AsyncSession, policy: Policy, debtor: db.Debtor,
                           installments: Sequence[db.Installment]) -> list[dict[str, Any]]:
        """One charge per unpaid installment (reused while its amount is still what is owed)."""
        provider = self.provider(debtor.creditor_id)
        if provider is None:
            return []
        result = []
        charges = ChargeRepository(session)
        sizes = await plan_sizes(session, {i.agreement_id for i in installments})
        for item in sorted(installments, key=lambda i: (i.due_date, i.number)):
            owed = max(item.amount - item.paid_amount, ZERO)
            if owed <= 0:
                continue
            charge = await charges.open_for_installment(item.id)
            if charge is not None and charge.amount != owed:
                charge.status = ChargeStatus.CANCELLED.value
                await withdraw(provider, charge)
                charge = None
            if charge is None:
                charge = await self._issue(session, provider, policy, debtor, owed, item.due_date,
                                           f"Parcela {item.number}", installment_id=item.id,
                                           of_plan=sizes.get(item.agreement_id, 1) > 1)
            if charge is not None:
                result.append({"number": item.number, **self._variables(charge)})
        return result

    async def for_promise(self, session: AsyncSession, policy: Policy, debtor: db.Debtor,
                          promise: Promise) -> dict[str, Any] | None:
        provider = self.provider(debtor.creditor_id)
        if provider is None or promise.target <= 0:
            return None
        charge = await ChargeRepository(session).open_for_promise(promise.id)
        if charge is None:
            charge = await self._issue(session, provider, policy, debtor, promise.target,
                                       promise.promised_date, "Compromisso de pagamento",
                                       promise_id=promise.id)
        return None if charge is None else {"number": 1, **self._variables(charge)}

    async def _issue(self, session: AsyncSession, provider: PaymentProvider, policy: Policy,
                     debtor: db.Debtor, amount: Decimal, due: Any, description: str, *,
                     installment_id: int | None = None, promise_id: int | None = None,
                     of_plan: bool = False) -> PaymentCharge | None:
        charges = ChargeRepository(session)
        txid = await self._txid(charges, provider, debtor, amount, due, installment_id, promise_id)
        late = policy.charges
        request = ChargeRequest(txid=txid, amount=amount, due_date=due,
                                creditor_name=policy.creditor.name, debtor_name=debtor.name,
                                debtor_tax_id=debtor.tax_id, description=description,
                                installment=of_plan, late_fee_percent=late.late_fee_percent,
                                monthly_interest_percent=late.monthly_interest_percent)
        try:
            issued = await provider.create_charge(request)
        except PaymentProviderError as exc:
            logger.warning("payment provider %s refused a charge: %s", provider.name, exc)
            await AuditLog(session).record(AuditKind.PAYMENT_PROVIDER_ERROR, "system",
                                           debtor_id=debtor.id,
                                           data={"provider": provider.name, "error": str(exc)[:300]})
            return None
        return await charges.add_once(PaymentCharge(
            txid=txid, debtor_id=debtor.id, installment_id=installment_id, promise_id=promise_id,
            method=issued.method, provider=provider.name, amount=amount, due_date=due,
            payload=issued.payload, provider_ref=issued.provider_ref, status=ChargeStatus.OPEN.value))

    @staticmethod
    async def _txid(charges: ChargeRepository, provider: PaymentProvider, debtor: db.Debtor,
                    amount: Decimal, due: Any, installment_id: int | None,
                    promise_id: int | None) -> str:
        """A PSP (``txid_length``) gets a txid derived from the charge: a retry after a timeout
        asks for the same charge again, never a second one. The static BR Code keeps a random one."""
        length = getattr(provider, "txid_length", None)
        if not length:
            return new_txid()
        before = await charges.count_for(installment_id=installment_id, promise_id=promise_id)
        return charge_txid(f"{debtor.creditor_id}|{debtor.id}|{installment_id}|{promise_id}|"
                           f"{before}|{amount}|{due}", length)

    def _variables(self, charge: PaymentCharge) -> dict[str, Any]:
        return {"amount": charge.amount, "due_date": charge.due_date, "method": charge.method,
                "payload": charge.payload, "txid": charge.txid, "qr_url": self.qr_url(charge.txid)}

    # -- settlement -----------------------------------------------------------------------

    async def settle(self, session: AsyncSession, debt: db.Debt, payment: db.Payment,
                     now: datetime) -> SettlementResult:
        """Apply ``payment`` (already recorded against ``debt``) to the agreement and promises."""
        result = SettlementResult()
        agreement = await session.scalar(
            select(db.Agreement)
            .join(db.agreement_debts, db.agreement_debts.c.agreement_id == db.Agreement.id)
            .options(selectinload(db.Agreement.installments), selectinload(db.Agreement.debts))
            .where(db.agreement_debts.c.debt_id == debt.id,
                   db.Agreement.status == db.AgreementStatus.ACTIVE.value)
            .order_by(db.Agreement.id.desc()).limit(1)
            # PostgreSQL: payments to two debts of one agreement settle one after the other
            # (SQLite writes one at a time); the installments are read afresh under the lock.
            .with_for_update(of=db.Agreement))
        if agreement is not None:
            await session.scalars(select(db.Installment)
                                  .where(db.Installment.agreement_id == agreement.id)
                                  .execution_options(populate_existing=True))
            await self._apply_to_agreement(session, agreement, payment, now, result)
        result.promises_kept = await self._keep_promises(session, debt.debtor_id, now)
        return result

    async def _apply_to_agreement(self, session: AsyncSession, agreement: db.Agreement,
                                  payment: db.Payment, now: datetime, result: SettlementResult) -> None:
        facts = [InstallmentFacts(id=i.id, number=i.number, due_date=i.due_date, amount=i.amount,
                                  paid_amount=i.paid_amount) for i in agreement.installments]
        allocation = allocate(payment.amount, facts)
        by_id = {i.id: i for i in agreement.installments}
        charges = ChargeRepository(session)
        paid_now = []
        for installment_id, amount in allocation.parts:
            item = by_id[installment_id]
            item.paid_amount = item.paid_amount + amount
            await charges.add_allocation(payment.id, installment_id, amount)
            if item.paid_amount >= item.amount:
                item.status = db.InstallmentStatus.PAID.value
                paid_now.append(installment_id)
        await charges.mark_paid(paid_now, payment.paid_at)
        result.allocated = dict(allocation.parts)
        result.agreement_id = agreement.id
        if all(i.paid_amount >= i.amount for i in agreement.installments):
            agreement.status = db.AgreementStatus.KEPT.value
            for debt in agreement.debts:
                debt.status = db.DebtStatus.PAID.value
            await AuditLog(session).record(AuditKind.AGREEMENT_KEPT, "system",
                                           debtor_id=agreement.debtor_id,
                                           data={"agreement_id": agreement.id}, at=now)
        result.agreement_status = agreement.status
        await session.flush()

    async def _keep_promises(self, session: AsyncSession, debtor_id: int, now: datetime) -> list[int]:
        kept = []
        for promise in await PromiseRepository(session).pending(debtor_id):
            paid = await paid_since(session, debtor_id, promise.created_at)
            if paid >= promise.target:
                promise.status, promise.resolved_at = PromiseStatus.KEPT.value, now
                await AuditLog(session).record(AuditKind.PROMISE_KEPT, "system", debtor_id=debtor_id,
                                               data={"promise_id": promise.id}, at=now)
                kept.append(promise.id)
        await session.flush()
        return kept


async def paid_since(session: AsyncSession, debtor_id: int, since: datetime) -> Decimal:
    """What the debtor paid (all debts) at or after ``since``."""
    total = await session.scalar(
        select(func.coalesce(func.sum(db.Payment.amount), 0))
        .join(db.Debt, db.Debt.id == db.Payment.debt_id)
        .where(db.Debt.debtor_id == debtor_id, db.Payment.paid_at >= since))
    if total is None:
        return ZERO
    return Decimal(total if isinstance(total, Decimal) else repr(total)).quantize(Decimal("0.01"))


async def debt_for_txid(session: AsyncSession, txid: str) -> db.Debt | None:
    """The debt a payment to charge ``txid`` is recorded against: the oldest unpaid debt of
    the installment's agreement (or of the promising debtor), its ``debtor`` loaded."""
    charge = await ChargeRepository(session).by_txid(txid)
    if charge is None:
        return None
    query = select(db.Debt).options(selectinload(db.Debt.debtor))
    if charge.installment_id is not None:
        installment = await session.get(db.Installment, charge.installment_id)
        if installment is None:
            return None
        query = query.join(db.agreement_debts, db.agreement_debts.c.debt_id == db.Debt.id).where(
            db.agreement_debts.c.agreement_id == installment.agreement_id)
    else:
        query = query.where(db.Debt.debtor_id == charge.debtor_id)
    debts = list(await session.scalars(query.order_by(db.Debt.due_date, db.Debt.id)))
    unpaid = [d for d in debts if d.status != db.DebtStatus.PAID and d.paid_amount < d.amount]
    candidates = unpaid or debts
    return candidates[0] if candidates else None


async def plan_sizes(session: AsyncSession, agreement_ids: set[int]) -> dict[int, int]:
    """How many installments each agreement has (one: a single payment)."""
    if not agreement_ids:
        return {}
    rows = await session.execute(select(db.Installment.agreement_id, func.count(db.Installment.id))
                                 .where(db.Installment.agreement_id.in_(agreement_ids))
                                 .group_by(db.Installment.agreement_id))
    return {row[0]: int(row[1]) for row in rows}


async def installment_numbers(session: AsyncSession, ids: Mapping[int, Decimal]) -> dict[int, int]:
    if not ids:
        return {}
    rows = await session.execute(select(db.Installment.id, db.Installment.number)
                                 .where(db.Installment.id.in_(list(ids))))
    return {row[0]: row[1] for row in rows}


def build_payment_desk(settings: Any, policies: PolicyBook, clock: Clock | None = None) -> PaymentDesk:
    """The desk for the settings: a PSP over the API Pix when ``ACORDO_PIX_API_URL`` is set,
    the fake provider for ``payment_provider = "fake"``, else the built-in static PIX."""
    override: PaymentProvider | None = None
    if settings.payment_provider == "fake":
        from bot.payments.provider import FakePaymentProvider

        secret = settings.payment_webhook_secret
        override = FakePaymentProvider(secret=secret.get_secret_value() if secret else "fake-secret")
    elif settings.pix_api_url:
        override = pix_api_provider(settings, clock or SystemClock())
    return PaymentDesk(providers_for(policies, override), settings.public_url)


def pix_api_provider(settings: Any, clock: Clock) -> PixApiProvider:
    hmac_secret, url_secret = settings.pix_webhook_hmac_secret, settings.pix_webhook_secret
    return PixApiProvider(PixApiConfig(
        base_url=settings.pix_api_url, client_id=settings.pix_client_id,
        client_secret=settings.pix_client_secret.get_secret_value(), cert=settings.pix_cert,
        key=settings.pix_key, ca=settings.pix_ca, chave=settings.pix_chave,
        profile=settings.pix_profile, timeout_seconds=settings.pix_timeout_seconds,
        webhook_secret=url_secret.get_secret_value() if url_secret else None,
        webhook_hmac_secret=hmac_secret.get_secret_value() if hmac_secret else None), clock)
