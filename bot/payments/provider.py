"""The ``PaymentProvider`` port: issue a charge for an amount, read the provider's webhook.

Built in: :class:`PixProvider` (a static PIX BR Code for the creditor's own key; no
external call, the bank's statement or ``POST /api/v1/payments`` with the ``txid``
settles it) and :class:`FakePaymentProvider` (tests and demos: boleto-like or link
charges, a JSON webhook signed with HMAC-SHA256). An adapter for a real PSP (boleto
registration, payment links) implements the same three members; see docs/payments.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol, runtime_checkable

from bot.payments import brcode


@dataclass(frozen=True)
class ChargeRequest:
    """What to charge: ``txid`` is ours (letters and digits; at most 25 for a static BR Code,
    :attr:`PaymentProvider.txid_length` for a PSP), unique per charge.

    ``installment``: one installment of a plan of several (a PSP charges it with a due date,
    ``late_fee_percent`` and ``monthly_interest_percent`` after it); otherwise a single payment.
    """

    txid: str
    amount: Decimal
    due_date: date
    creditor_name: str
    debtor_name: str
    debtor_tax_id: str | None = None
    description: str = ""
    installment: bool = False
    late_fee_percent: Decimal | None = None
    monthly_interest_percent: Decimal | None = None


@dataclass(frozen=True)
class ChargeInstructions:
    """How the debtor pays: ``payload`` is the PIX "copia e cola", a boleto's digitable line or a URL."""

    method: str  # "pix", "boleto" or "link"
    payload: str
    provider_ref: str | None = None


@dataclass(frozen=True)
class PaymentNotice:
    """A payment the provider reports (webhook): matched to our charge by ``txid``."""

    txid: str
    amount: Decimal
    paid_at: datetime
    provider_ref: str | None = None


class PaymentProviderError(Exception):
    """The provider refused or failed to issue a charge."""


class InvalidWebhook(PaymentProviderError):
    """A webhook whose signature or body is not acceptable (answer 401/400, process nothing)."""


@runtime_checkable
class PaymentProvider(Protocol):
    """A payment adapter (PIX, boleto, payment link)."""

    @property
    def name(self) -> str:
        """Stored with every charge (``pix``, ``fake``, ``<psp>``)."""
        ...

    async def create_charge(self, request: ChargeRequest) -> ChargeInstructions:
        """Issue the charge; raise :class:`PaymentProviderError` if the provider refuses."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[PaymentNotice]:
        """Verify and read a webhook call; raise :class:`InvalidWebhook` when not authentic."""
        ...


@dataclass
class PixProvider:
    """Static PIX BR Code for the creditor's key, amount and a per-charge txid (no network)."""

    key: str
    merchant_name: str
    city: str
    name: str = "pix"

    async def create_charge(self, request: ChargeRequest) -> ChargeInstructions:
        try:
            payload = brcode.build(self.key, self.merchant_name, self.city, request.amount,
                                   request.txid, single_use=True)
        except brcode.BRCodeError as exc:
            raise PaymentProviderError(str(exc)) from exc
        return ChargeInstructions("pix", payload)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[PaymentNotice]:
        raise InvalidWebhook("a static PIX key has no webhook: import the bank statement instead")


@dataclass
class FakePaymentProvider:
    """An in-memory provider for tests: every charge is recorded; the webhook is JSON
    ``{"payments": [{"txid", "amount", "paid_at"}]}`` signed in ``X-Signature`` with
    HMAC-SHA256 of the body under ``secret``."""

    secret: str = "fake-secret"
    method: str = "link"
    name: str = "fake"
    base_url: str = "https://pay.example.test"
    charges: list[ChargeRequest] = field(default_factory=list)
    fail: bool = False

    async def create_charge(self, request: ChargeRequest) -> ChargeInstructions:
        if self.fail:
            raise PaymentProviderError("fake provider refused")
        self.charges.append(request)
        if self.method == "boleto":
            digits = f"{int(hashlib.sha256(request.txid.encode()).hexdigest(), 16) % 10**47:047d}"
            return ChargeInstructions("boleto", digits, provider_ref=f"fake-{request.txid}")
        return ChargeInstructions("link", f"{self.base_url}/{request.txid}",
                                  provider_ref=f"fake-{request.txid}")

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[PaymentNotice]:
        given = {k.lower(): v for k, v in headers.items()}.get("x-signature", "")
        if not hmac.compare_digest(given, self.sign(body)):
            raise InvalidWebhook("bad signature")
        try:
            items = json.loads(body)["payments"]
            notices = [PaymentNotice(txid=str(i["txid"]), amount=Decimal(str(i["amount"])),
                                     paid_at=datetime.fromisoformat(str(i["paid_at"])),
                                     provider_ref=i.get("id")) for i in items]
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise InvalidWebhook(f"malformed body: {exc}") from exc
        if any(n.paid_at.tzinfo is None or not n.amount.is_finite() or n.amount <= 0 for n in notices):
            raise InvalidWebhook("paid_at needs a time zone offset and amounts must be positive")
        return notices
