"""A PSP emulator speaking the Banco Central's API Pix (``bacen/pix-api``), for tests and benches.

Served over HTTPS with **mutual TLS** (a client certificate from the test CA is required,
:mod:`bot.devtools.emulators.certificates`) and **OAuth2 client credentials**
(``POST /oauth/token`` with HTTP basic auth of the client id and secret, ``scope`` a
space-separated subset of :data:`SCOPES`; tokens expire after ``token_seconds`` by the
emulator's clock). Under ``base_path`` (``""`` for the plain API, ``"/v2"`` like Efí):

- ``PUT /cob/{txid}``, ``PUT /cobv/{txid}``: create; ``txid`` must match ``[a-zA-Z0-9]{26,35}``.
  A repeat with the same body answers the same charge (``200``); another body for a txid
  in use is ``409`` ``CobOperacaoInvalida`` (the emulator's reading of the spec: the txid is
  the recipient's idempotency key). ``GET`` reads one; ``PATCH`` with
  ``{"status": "REMOVIDA_PELO_USUARIO_RECEBEDOR"}`` removes an active one.
- ``GET /pix?inicio&fim&paginacao.paginaAtual&paginacao.itensPorPagina``: PIX received
  (``parametros.paginacao`` in the answer); ``GET /pix/{e2eid}``.
- ``PUT /pix/{e2eid}/devolucao/{id}`` with ``{"valor"}``: a refund (at most what is left).
- ``PUT|GET|DELETE /webhook/{chave}`` with ``{"webhookUrl"}``: the PSP then POSTs
  ``{"pix": [...]}`` to ``webhookUrl + "/pix"`` for each PIX received, as the spec says.

Errors are RFC 7807 problems (``type``, ``title``, ``status``, ``detail``, ``violacoes``).

Test hooks: :meth:`PixEmulator.pay` receives a PIX for a charge (an ``endToEndId``, the
charge ``CONCLUIDA``) and delivers the webhook. Faults: the API's 5xx and timeouts
(:class:`~bot.devtools.emulators.observed.Faults`, or ``scripted``), and
:class:`WebhookFaults`: lost and duplicated callbacks, delayed settlement.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp
from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.devtools.emulators.certificates import PKIFiles
from bot.devtools.emulators.observed import Faults, Observed, Request
from bot.devtools.emulators.pix_bodies import Problem, charge_errors, dynamic_brcode, problem

SCOPES = frozenset({"cob.write", "cob.read", "cobv.write", "cobv.read", "pix.read", "pix.write",
                    "webhook.write", "webhook.read"})
TXID_RE = re.compile(r"^[a-zA-Z0-9]{26,35}$")
ISPB = "12345678"
REMOVED = "REMOVIDA_PELO_USUARIO_RECEBEDOR"
Sender = Callable[[str, bytes], Awaitable[int]]  # (url, JSON body) -> HTTP status


@dataclass(frozen=True)
class WebhookFaults:
    """A share of PIX whose callback is never sent, and of callbacks sent twice; and a
    settlement delay (seconds between the PIX and its callback)."""

    rate_lost: float = 0.0
    rate_duplicated: float = 0.0
    delay: float = 0.0


@dataclass
class Token:
    scopes: frozenset[str]
    expires: datetime


class PixEmulator(Observed):
    def __init__(self, pki: PKIFiles, *, client_id: str = "acordo-client",
                 client_secret: str = "acordo-secret", chave: str = "cobranca@credor.example",
                 base_path: str = "", token_seconds: int = 3600, clock: Clock | None = None,
                 faults: Faults | None = None, webhook_faults: WebhookFaults | None = None,
                 sender: Sender | None = None, seed: int = 0) -> None:
        super().__init__(faults, seed)
        self.pki, self.client_id, self.client_secret, self.chave = pki, client_id, client_secret, chave
        self.base_path, self.token_seconds = base_path.rstrip("/"), token_seconds
        self.clock = clock or SystemClock()
        self.webhook_faults = webhook_faults or WebhookFaults()
        self.sender = sender
        self.tokens: dict[str, Token] = {}
        self.charges: dict[str, dict[str, Any]] = {}  # txid -> the charge as answered
        self.bodies: dict[str, str] = {}  # txid -> the canonical body it was created with
        self.received: list[dict[str, Any]] = []  # PIX, in arrival order
        self.webhooks: dict[str, str] = {}  # chave -> webhookUrl
        self.callbacks: list[tuple[str, int]] = []  # (url, status) of each delivery made
        self.lost: list[str] = []  # endToEndIds whose callback was lost
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    # -- serving ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._faults_middleware])
        app.router.add_post("/oauth/token", self._token)
        base = self.base_path
        for kind in ("cob", "cobv"):
            app.router.add_put(f"{base}/{kind}/{{txid}}", self._create)
            app.router.add_get(f"{base}/{kind}/{{txid}}", self._read)
            app.router.add_patch(f"{base}/{kind}/{{txid}}", self._patch)
        app.router.add_get(f"{base}/pix", self._list_pix)
        app.router.add_get(f"{base}/pix/{{e2eid}}", self._one_pix)
        app.router.add_put(f"{base}/pix/{{e2eid}}/devolucao/{{id}}", self._refund)
        app.router.add_put(f"{base}/webhook/{{chave}}", self._webhook_put)
        app.router.add_get(f"{base}/webhook/{{chave}}", self._webhook_get)
        app.router.add_delete(f"{base}/webhook/{{chave}}", self._webhook_delete)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve over mutual TLS on ``host`` (port 0: a free one). Returns the base URL."""
        self._runner = web.AppRunner(self.app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=self.pki.server_context())
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[attr-defined]
        self.base_url = f"https://{host}:{sockets[0].getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        await super().stop()

    async def settled(self) -> None:
        """Wait for every callback under way (delayed ones included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    @web.middleware
    async def _faults_middleware(self, request: web.Request,
                                 handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                                 ) -> web.StreamResponse:
        fault = self.draw_fault()
        self.requests.append(Request(self.now(), request.method, None, request.path, fault or "ok"))
        if fault in ("5xx", "429"):
            status = 503 if fault == "5xx" else 429
            return problem(status, "ServicoIndisponivel", "Serviço indisponível",
                           "falha simulada do PSP")
        if fault != "timeout":
            return await handler(request)
        response = await handler(request)  # processed, then answered too late
        await asyncio.sleep(self.faults.timeout_delay)
        return response

    # -- OAuth2 ----------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("Authorization", "") != f"Basic {expected}":
            return web.json_response({"error": "invalid_client"}, status=401)
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        asked = frozenset(str(form.get("scope") or " ".join(sorted(SCOPES))).split())
        if not asked <= SCOPES:
            return web.json_response({"error": "invalid_scope"}, status=400)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = Token(asked, self.clock.now() + timedelta(seconds=self.token_seconds))
        return web.json_response({"access_token": token, "token_type": "Bearer",
                                  "expires_in": self.token_seconds, "scope": " ".join(sorted(asked))})

    def _authorize(self, request: web.Request, scope: str) -> Problem | None:
        header = request.headers.get("Authorization", "")
        token = self.tokens.get(header.removeprefix("Bearer "))
        if not header.startswith("Bearer ") or token is None or token.expires <= self.clock.now():
            return problem(401, "AcessoNegado", "Acesso negado", "token ausente, inválido ou expirado")
        if scope not in token.scopes:
            return problem(403, "AcessoNegado", "Acesso negado", f"escopo {scope} não concedido")
        return None

    # -- charges ---------------------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.Response:
        kind = _kind(request)
        denied = self._authorize(request, f"{kind}.write")
        if denied is not None:
            return denied
        txid = request.match_info["txid"]
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return problem(400, "CobOperacaoInvalida", "Cobrança inválida", "o corpo não é JSON")
        violations = ([] if TXID_RE.match(txid) else [("txid", "não respeita [a-zA-Z0-9]{26,35}")])
        violations += charge_errors(kind, body, self.chave)
        if violations:
            return problem(400, "CobOperacaoInvalida", "Cobrança inválida",
                           "a requisição não respeita o schema", violations)
        canonical = json.dumps([kind, body], sort_keys=True)
        if txid in self.bodies:
            if self.bodies[txid] != canonical:
                return problem(409, "CobOperacaoInvalida", "Cobrança inválida",
                               f"o txid {txid} já é de outra cobrança")
            return web.json_response(self.charges[txid])
        self.bodies[txid] = canonical
        self.charges[txid] = self._charge(kind, txid, body)
        return web.json_response(self.charges[txid], status=201)

    def _charge(self, kind: str, txid: str, body: dict[str, Any]) -> dict[str, Any]:
        created = self.clock.now().astimezone(UTC).isoformat().replace("+00:00", "Z")
        location = f"pix.psp.example/qr/v2/{secrets.token_hex(16)}"
        return {**body, "calendario": {**body.get("calendario", {}), "criacao": created},
                "txid": txid, "revisao": 0, "status": "ATIVA",
                "loc": {"id": len(self.charges) + 1, "location": location, "tipoCob": kind},
                "location": location, "pixCopiaECola": dynamic_brcode(location),
                "_kind": kind}

    def _public(self, charge: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in charge.items() if not k.startswith("_")}

    async def _read(self, request: web.Request) -> web.Response:
        kind = _kind(request)
        denied = self._authorize(request, f"{kind}.read")
        if denied is not None:
            return denied
        charge = self.charges.get(request.match_info["txid"])
        if charge is None or charge["_kind"] != kind:
            return problem(404, "CobNaoEncontrado", "Cobrança não encontrada", "txid desconhecido")
        return web.json_response(self._public(charge))

    async def _patch(self, request: web.Request) -> web.Response:
        kind = _kind(request)
        denied = self._authorize(request, f"{kind}.write")
        if denied is not None:
            return denied
        charge = self.charges.get(request.match_info["txid"])
        if charge is None or charge["_kind"] != kind:
            return problem(404, "CobNaoEncontrado", "Cobrança não encontrada", "txid desconhecido")
        body = await request.json()
        if body.get("status") != REMOVED or charge["status"] != "ATIVA":
            return problem(400, "CobOperacaoInvalida", "Cobrança inválida",
                           "só uma cobrança ATIVA pode ser REMOVIDA_PELO_USUARIO_RECEBEDOR")
        charge["status"], charge["revisao"] = REMOVED, charge["revisao"] + 1
        return web.json_response(self._public(charge))

    # -- PIX received ----------------------------------------------------------------------

    def pay(self, txid: str, amount: Decimal | None = None, *, at: datetime | None = None) -> dict[str, Any]:
        """The debtor pays charge ``txid`` (its amount unless ``amount``): a PIX is received,
        the charge concluded, and its callback scheduled (subject to :class:`WebhookFaults`)."""
        charge = self.charges[txid]
        if charge["status"] != "ATIVA":
            raise ValueError(f"charge {txid} is {charge['status']}")
        when = at or self.clock.now()
        value = amount if amount is not None else Decimal(charge["valor"]["original"])
        e2eid = f"E{ISPB}{when.astimezone(UTC):%Y%m%d%H%M}{secrets.token_hex(6)[:11]}"
        pix = {"endToEndId": e2eid, "txid": txid, "valor": f"{value:.2f}", "chave": self.chave,
               "horario": when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
               "infoPagador": "pagamento do acordo"}
        charge["status"] = "CONCLUIDA"
        charge.setdefault("pix", []).append(pix)
        self.received.append(pix)
        self._schedule(pix)
        return pix

    def _schedule(self, pix: dict[str, Any]) -> None:
        url = self.webhooks.get(self.chave)
        faults = self.webhook_faults
        if url is None:
            return
        if self.random.random() < faults.rate_lost:
            self.lost.append(pix["endToEndId"])
            return
        times = 2 if self.random.random() < faults.rate_duplicated else 1
        task = asyncio.get_running_loop().create_task(self._deliver(url + "/pix", pix, times))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, url: str, pix: dict[str, Any], times: int) -> None:
        if self.webhook_faults.delay:
            await asyncio.sleep(self.webhook_faults.delay)
        body = json.dumps({"pix": [_without_refunds(pix)]}).encode()
        for _ in range(times):
            self.callbacks.append((url, await self._send(url, body)))

    async def _send(self, url: str, body: bytes) -> int:
        if self.sender is not None:
            return await self.sender(url, body)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(url, data=body,
                                          headers={"Content-Type": "application/json"}) as response:
                return response.status
        except aiohttp.ClientError:
            return 0

    async def _list_pix(self, request: web.Request) -> web.Response:
        denied = self._authorize(request, "pix.read")
        if denied is not None:
            return denied
        query = request.query
        try:
            start = _instant(query["inicio"])
            end = _instant(query["fim"])
            page = int(query.get("paginacao.paginaAtual", "0"))
            size = int(query.get("paginacao.itensPorPagina", "100"))
        except (KeyError, ValueError):
            return problem(400, "ConsultaInvalida", "Consulta inválida",
                           "inicio e fim são obrigatórios (RFC 3339); paginação numérica")
        if page < 0 or not 1 <= size <= 1000 or end < start:
            return problem(400, "ConsultaInvalida", "Consulta inválida", "paginação ou período inválido")
        found = [p for p in self.received if start <= _instant(p["horario"]) <= end]
        total_pages = max(1, -(-len(found) // size))
        return web.json_response({
            "parametros": {"inicio": query["inicio"], "fim": query["fim"], "paginacao": {
                "paginaAtual": page, "itensPorPagina": size, "quantidadeDePaginas": total_pages,
                "quantidadeTotalDeItens": len(found)}},
            "pix": found[page * size:(page + 1) * size]})

    async def _one_pix(self, request: web.Request) -> web.Response:
        denied = self._authorize(request, "pix.read")
        if denied is not None:
            return denied
        pix = self._pix(request.match_info["e2eid"])
        if pix is None:
            return problem(404, "PixNaoEncontrado", "Pix não encontrado", "endToEndId desconhecido")
        return web.json_response(pix)

    def _pix(self, e2eid: str) -> dict[str, Any] | None:
        return next((p for p in self.received if p["endToEndId"] == e2eid), None)

    async def _refund(self, request: web.Request) -> web.Response:
        denied = self._authorize(request, "pix.write")
        if denied is not None:
            return denied
        pix = self._pix(request.match_info["e2eid"])
        if pix is None:
            return problem(404, "PixNaoEncontrado", "Pix não encontrado", "endToEndId desconhecido")
        refund_id = request.match_info["id"]
        refunds = pix.setdefault("devolucoes", [])
        same = next((r for r in refunds if r["id"] == refund_id), None)
        if same is not None:
            return web.json_response(same)
        try:
            value = Decimal(str((await request.json())["valor"]))
        except (KeyError, ValueError, InvalidOperation, json.JSONDecodeError):
            return problem(400, "DevolucaoInvalida", "Devolução inválida", "valor obrigatório")
        left = Decimal(pix["valor"]) - sum((Decimal(r["valor"]) for r in refunds), Decimal(0))
        if not Decimal("0.01") <= value <= left:
            return problem(400, "DevolucaoInvalida", "Devolução inválida",
                           f"o valor deve estar entre 0.01 e {left:.2f}")
        refund = {"id": refund_id, "rtrId": f"D{ISPB}{secrets.token_hex(12)[:23]}",
                  "valor": f"{value:.2f}", "status": "DEVOLVIDO",
                  "horario": {"solicitacao": self.clock.now().astimezone(UTC).isoformat()}}
        refunds.append(refund)
        return web.json_response(refund, status=201)

    # -- webhooks --------------------------------------------------------------------------

    async def _webhook_put(self, request: web.Request) -> web.Response:
        denied = self._authorize(request, "webhook.write")
        if denied is not None:
            return denied
        chave = request.match_info["chave"]
        url = (await request.json()).get("webhookUrl", "")
        if chave != self.chave or not str(url).startswith(("https://", "http://")):
            return problem(400, "WebhookOperacaoInvalida", "Webhook inválido",
                           "chave desconhecida ou webhookUrl inválida")
        self.webhooks[chave] = str(url)
        return web.Response(status=200)

    async def _webhook_get(self, request: web.Request) -> web.Response:
        denied = self._authorize(request, "webhook.read")
        if denied is not None:
            return denied
        url = self.webhooks.get(request.match_info["chave"])
        if url is None:
            return problem(404, "WebhookNaoEncontrado", "Webhook não encontrado", "sem webhook")
        return web.json_response({"webhookUrl": url, "chave": request.match_info["chave"]})

    async def _webhook_delete(self, request: web.Request) -> web.Response:
        denied = self._authorize(request, "webhook.write")
        if denied is not None:
            return denied
        self.webhooks.pop(request.match_info["chave"], None)
        return web.Response(status=204)


def _kind(request: web.Request) -> str:
    return "cobv" if "/cobv/" in request.path else "cob"


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("an instant needs its offset")
    return moment


def _without_refunds(pix: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in pix.items() if k != "devolucoes"}


