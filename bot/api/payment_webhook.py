"""The payment providers' webhook: payments reported, matched to our charges and settled."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import ValidationError

from bot import schemas
from bot.api.deps import ContainerDep
from bot.payments.pix_api import PixApiProvider
from bot.payments.provider import InvalidWebhook
from bot.services.pix_reconciliation import payment_for, record_payments
from bot.services.portfolio import UnknownDebt

router = APIRouter(tags=["payments"])


@router.post("/payments/webhook/{provider}", response_model=list[schemas.PaymentOut])
async def payment_webhook(provider: str, request: Request, container: ContainerDep
                          ) -> list[schemas.PaymentOut]:
    """A payment provider reports payments; each is matched to our charge by txid and settles it."""
    adapters = {p.name: p for p in container.payments.providers()}
    adapter = adapters.get(provider)
    if adapter is None or isinstance(adapter, PixApiProvider):  # the API Pix has its own route
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no payment provider {provider!r}")
    try:
        notices = adapter.parse_webhook(dict(request.headers), await request.body())
    except InvalidWebhook as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    results = []
    bodies = []
    for notice in notices:
        try:
            bodies.append(schemas.PaymentIn.model_validate({
                "txid": notice.txid, "amount": f"{notice.amount:.2f}", "paid_at": notice.paid_at,
                "reference": notice.provider_ref or notice.txid}))
        except ValidationError as exc:  # an amount or date out of bounds: nothing is settled
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
                {"loc": ["body", "payments", *error["loc"]], "msg": error["msg"], "type": error["type"]}
                for error in exc.errors()]) from exc
    for body in bodies:
        try:
            results.append(await container.portfolio.record_payment(body))
        except UnknownDebt:
            continue  # not one of ours: acknowledged, nothing settled
    return results


@router.post("/payments/pix/{secret}/pix", response_model=list[schemas.PaymentOut],
             include_in_schema=False)
@router.post("/payments/pix/{secret}", response_model=list[schemas.PaymentOut], include_in_schema=False)
async def pix_webhook(secret: str, request: Request, container: ContainerDep) -> list[schemas.PaymentOut]:
    """The API Pix callback ``{"pix": [...]}`` (the PSP appends ``/pix`` to the registered URL).
    Authenticated by the secret in the path (and the HMAC header when configured); each PIX
    is recorded once by its ``endToEndId`` and settles the charge named by its txid."""
    provider = container.payments.pix_api()
    if provider is None or not provider.webhook_secret_matches(secret):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such webhook")
    try:
        notices = provider.parse_webhook(dict(request.headers), await request.body())
    except InvalidWebhook as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    try:
        payments = [payment_for(notice) for notice in notices]
    except ValidationError as exc:  # an amount or date out of bounds: nothing is settled
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
            {"loc": ["body", "pix", *error["loc"]], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors()]) from exc
    _, results = await record_payments(container.portfolio, payments)
    return results
