"""A :class:`~bot.payments.provider.PaymentProvider` over the Banco Central's API Pix (a PSP).

- Mutual TLS: the client certificate and key (PEM) and, optionally, a CA bundle to trust
  (a test CA, the emulator's); OAuth2 client credentials for a bearer token, asked with
  only the scopes Acordo uses and reused until shortly before it expires (by the clock).
- A single payment is a ``cob`` (immediate charge), an installment of a plan is a ``cobv``
  (due date, the debtor's CPF/CNPJ, the policy's ``multa``/``juros``); both are ``PUT`` by
  our ``txid``, so a retry after a timeout or a 5xx creates nothing twice.
- The webhook body ``{"pix": [...]}`` becomes :class:`PaymentNotice` values (``provider_ref``
  = ``endToEndId``); :meth:`PixApiProvider.received` reads ``GET /pix`` page by page (the
  reconciliation sweep), :meth:`PixApiProvider.refund` asks for a ``devolucao``.

Profiles (:data:`PROFILES`) hold what differs between PSPs: the path prefix of the API.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bot.clock import Clock
from bot.payments.provider import (
    ChargeInstructions,
    ChargeRequest,
    InvalidWebhook,
    PaymentNotice,
    PaymentProviderError,
)

SCOPES = ("cob.write", "cob.read", "cobv.write", "cobv.read", "pix.read", "pix.write",
          "webhook.write", "webhook.read")
TOKEN_MARGIN = timedelta(seconds=60)  # a token is renewed this long before it expires
SIGNATURE_HEADER = "x-acordo-signature"


@dataclass(frozen=True)
class Profile:
    """What differs from the plain API Pix: ``api_prefix`` before ``/cob`` (Efí: ``/v2``)."""

    api_prefix: str = ""
    token_path: str = "/oauth/token"


PROFILES: dict[str, Profile] = {"bcb": Profile(), "efi": Profile(api_prefix="/v2")}


@dataclass(frozen=True)
class PixApiConfig:
    base_url: str
    client_id: str
    client_secret: str
    cert: Path
    key: Path
    chave: str  # the creditor's PIX key at the PSP (the receiving account)
    ca: Path | None = None
    profile: str = "bcb"
    timeout_seconds: float = 10.0
    attempts: int = 3
    cob_days_after_due: int = 1  # a single payment's charge stays payable this long after its date
    cobv_days_after_due: int = 30  # validadeAposVencimento of an installment
    webhook_secret: str | None = None  # the path segment of our webhook URL
    webhook_hmac_secret: str | None = None


@dataclass
class _Token:
    value: str
    expires: datetime


@dataclass
class PixApiProvider:
    config: PixApiConfig
    clock: Clock
    name: str = "pix_api"
    txid_length: int = 32
    tokens_issued: int = 0
    _token: _Token | None = None
    _client: httpx.AsyncClient | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def profile(self) -> Profile:
        return PROFILES[self.config.profile]

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            context = ssl.create_default_context(
                cafile=str(self.config.ca) if self.config.ca else None)
            context.load_cert_chain(self.config.cert, self.config.key)
            self._client = httpx.AsyncClient(base_url=self.config.base_url.rstrip("/"),
                                             verify=context, timeout=self.config.timeout_seconds)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- OAuth2 ----------------------------------------------------------------------------

    async def token(self) -> str:
        async with self._lock:
            now = self.clock.now()
            if self._token is not None and now < self._token.expires - TOKEN_MARGIN:
                return self._token.value
            response = await self.client().post(
                self.profile.token_path, auth=(self.config.client_id, self.config.client_secret),
                data={"grant_type": "client_credentials", "scope": " ".join(SCOPES)})
            if response.status_code != 200:
                raise PaymentProviderError(
                    f"OAuth token refused: {response.status_code} {response.text[:200]}")
            body = response.json()
            self._token = _Token(str(body["access_token"]),
                                 now + timedelta(seconds=int(body.get("expires_in", 3600))))
            self.tokens_issued += 1
            return self._token.value

    async def call(self, method: str, path: str, *, json_body: Any = None,
                   params: Mapping[str, str] | None = None) -> httpx.Response:
        """One API call, retried on timeouts, 5xx and 429 (each call here is idempotent);
        a 401 renews the token once."""
        url = self.profile.api_prefix + path
        last = "no attempt"
        for _attempt in range(self.config.attempts):
            headers = {"Authorization": f"Bearer {await self.token()}"}
            try:
                response = await self.client().request(method, url, json=json_body, params=params,
                                                       headers=headers)
            except httpx.TimeoutException:
                last = "timeout"
                continue
            except httpx.TransportError as exc:
                raise PaymentProviderError(f"PSP unreachable: {exc!r}") from exc
            if response.status_code == 401:
                self._token = None
                last = "401"
                continue
            if response.status_code >= 500 or response.status_code == 429:
                last = str(response.status_code)
                continue
            return response
        raise PaymentProviderError(f"{method} {url}: gave up after {self.config.attempts} attempts ({last})")

    # -- charges ---------------------------------------------------------------------------

    def charge_body(self, request: ChargeRequest) -> tuple[str, dict[str, Any]]:
        """``("cob" | "cobv", body)`` for a request: an installment with the debtor's tax id
        is a ``cobv``; everything else a ``cob``."""
        body: dict[str, Any] = {"chave": self.config.chave, "valor": {"original": f"{request.amount:.2f}"}}
        if request.description:
            body["solicitacaoPagador"] = request.description[:140]
        debtor = _debtor(request)
        if request.installment and debtor is not None:
            body["calendario"] = {"dataDeVencimento": request.due_date.isoformat(),
                                  "validadeAposVencimento": self.config.cobv_days_after_due}
            body["devedor"] = debtor
            if request.late_fee_percent:
                body["valor"]["multa"] = {"modalidade": 2, "valorPerc": f"{request.late_fee_percent:.2f}"}
            if request.monthly_interest_percent:  # 3: percent a month, calendar days
                body["valor"]["juros"] = {"modalidade": 3,
                                          "valorPerc": f"{request.monthly_interest_percent:.2f}"}
            return "cobv", body
        last = datetime.combine(request.due_date + timedelta(days=self.config.cob_days_after_due),
                                time(23, 59, 59), tzinfo=UTC)
        seconds = int((last - self.clock.now()).total_seconds())
        body["calendario"] = {"expiracao": max(seconds, 3600)}
        if debtor is not None:
            body["devedor"] = debtor
        return "cob", body

    async def create_charge(self, request: ChargeRequest) -> ChargeInstructions:
        kind, body = self.charge_body(request)
        response = await self.call("PUT", f"/{kind}/{quote(request.txid)}", json_body=body)
        if response.status_code not in (200, 201):
            raise PaymentProviderError(f"PUT /{kind}: {response.status_code} {response.text[:300]}")
        answer = response.json()
        payload = answer.get("pixCopiaECola")
        if not payload:
            raise PaymentProviderError(f"PUT /{kind}: no pixCopiaECola in the answer")
        loc = answer.get("loc") or {}
        return ChargeInstructions("pix", str(payload), provider_ref=f"{kind}:{loc.get('id', '')}")

    async def remove_charge(self, txid: str, kind: str = "cobv") -> None:
        response = await self.call("PATCH", f"/{kind}/{quote(txid)}",
                                   json_body={"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"})
        if response.status_code != 200:
            raise PaymentProviderError(f"PATCH /{kind}: {response.status_code} {response.text[:300]}")

    # -- PIX received ----------------------------------------------------------------------

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[PaymentNotice]:
        """The callback ``{"pix": [...]}``; with a HMAC secret configured, ``X-Acordo-Signature``
        must be the hex HMAC-SHA256 of the body (the URL secret is checked by the route)."""
        secret = self.config.webhook_hmac_secret
        if secret:
            given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(given.removeprefix("sha256="), expected):
                raise InvalidWebhook("bad signature")
        try:
            items = json.loads(body)["pix"]
            return [n for n in (notice(item) for item in items) if n is not None]
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise InvalidWebhook(f"malformed body: {exc}") from exc

    async def received(self, start: datetime, end: datetime, page_size: int = 100) -> list[PaymentNotice]:
        """Every PIX received between ``start`` and ``end`` (all pages of ``GET /pix``)."""
        notices: list[PaymentNotice] = []
        page, pages = 0, 1
        while page < pages:
            response = await self.call("GET", "/pix", params={
                "inicio": _rfc3339(start), "fim": _rfc3339(end),
                "paginacao.paginaAtual": str(page), "paginacao.itensPorPagina": str(page_size)})
            if response.status_code != 200:
                raise PaymentProviderError(f"GET /pix: {response.status_code} {response.text[:300]}")
            answer = response.json()
            pages = int(answer["parametros"]["paginacao"]["quantidadeDePaginas"])
            notices += [n for n in (notice(item) for item in answer.get("pix", [])) if n is not None]
            page += 1
        return notices

    async def refund(self, end_to_end_id: str, refund_id: str, amount: Decimal) -> dict[str, Any]:
        response = await self.call("PUT", f"/pix/{quote(end_to_end_id)}/devolucao/{quote(refund_id)}",
                                   json_body={"valor": f"{amount:.2f}"})
        if response.status_code not in (200, 201):
            raise PaymentProviderError(f"devolucao: {response.status_code} {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    def webhook_path(self) -> str | None:
        """Our webhook's path (the PSP appends ``/pix`` to the URL it is given)."""
        secret = self.config.webhook_secret
        return f"/payments/pix/{secret}" if secret else None

    def webhook_secret_matches(self, given: str) -> bool:
        secret = self.config.webhook_secret
        return bool(secret) and hmac.compare_digest(given.encode(), (secret or "").encode())

    async def register_webhook(self, url: str) -> None:
        response = await self.call("PUT", f"/webhook/{quote(self.config.chave)}",
                                   json_body={"webhookUrl": url})
        if response.status_code not in (200, 201, 204):
            raise PaymentProviderError(f"PUT /webhook: {response.status_code} {response.text[:300]}")


def notice(item: Mapping[str, Any]) -> PaymentNotice | None:
    """A received PIX as a notice; ``None`` for one without a txid (not a charge of ours)."""
    txid = item.get("txid")
    if not txid:
        return None
    paid_at = datetime.fromisoformat(str(item["horario"]).replace("Z", "+00:00"))
    amount = Decimal(str(item["valor"]))
    if paid_at.tzinfo is None or not amount.is_finite() or amount <= 0:
        raise ValueError("horario needs its offset and valor must be positive")
    return PaymentNotice(txid=str(txid), amount=amount, paid_at=paid_at,
                         provider_ref=str(item["endToEndId"]))


def _debtor(request: ChargeRequest) -> dict[str, str] | None:
    digits = "".join(c for c in request.debtor_tax_id or "" if c.isdigit())
    kind = {11: "cpf", 14: "cnpj"}.get(len(digits))
    if kind is None:
        return None
    return {kind: digits, "nome": request.debtor_name[:200]}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
