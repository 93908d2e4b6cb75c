"""The QR image of a PIX charge (``/pay/{txid}.png``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from bot.api.deps import ContainerDep
from bot.payments.qr import qr_png
from bot.storage.payment_models import PaymentMethod
from bot.storage.payment_repositories import ChargeRepository

router = APIRouter(tags=["payments"])


@router.get("/pay/{txid}.png", include_in_schema=False)
async def pix_qr(txid: str, container: ContainerDep) -> Response:
    """The QR image of a PIX charge (what the chat links to and the channels send as a picture)."""
    async with container.sessions() as session:
        charge = await ChargeRepository(session).by_txid(txid)
    if charge is None or charge.method != PaymentMethod.PIX:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such PIX charge")
    return Response(qr_png(charge.payload), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=86400"})
