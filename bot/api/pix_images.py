"""The QR image of a PIX charge (``/pay/{txid}.png``)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response

from bot.api.deps import ContainerDep
from bot.services.payment_pictures import PixQrPictures

router = APIRouter(tags=["payments"])


@router.get("/pay/{txid}.png", include_in_schema=False)
async def pix_qr(txid: str, container: ContainerDep) -> Response:
    """The QR image of a PIX charge (what the chat links to and the channels send as a picture)."""
    png = await PixQrPictures(container.uow).png(txid)
    if png is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such PIX charge")
    return Response(png, media_type="image/png",
                    headers={"Cache-Control": "private, max-age=86400"})
