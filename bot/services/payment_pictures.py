"""The PIX QR code as a picture in the chat: which charge gets one, and rebuilding it to send.

A ``payment_instructions`` reply lists one charge per open installment (or one for a
promise). To avoid flooding the chat only the first PIX charge of the reply — the next one
due, as charges are listed by due date — gets its QR code as a picture
(:func:`instruction_picture`); every charge keeps its "copia e cola" as text, the only form
the debtor can copy. The picture travels by reference (:class:`MediaRef` ``pix_qr`` + txid,
stored in the outbox row) and is rebuilt from the stored charge just before it is sent
(:class:`PixQrPictures`), so a queued picture survives a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.channels.base import MediaRef, MediaSpec
from bot.payments.qr import qr_png
from bot.storage.payment_models import PaymentMethod
from bot.storage.uow import UnitOfWorkFactory

PIX_QR = "pix_qr"
INSTRUCTIONS_TEMPLATE = "payment_instructions"


def instruction_picture(charges: Iterable[Mapping[str, Any]]) -> MediaRef | None:
    """The QR code of the first PIX charge (the next due), or ``None`` if none is PIX."""
    for charge in charges:
        if charge.get("method") == PaymentMethod.PIX and charge.get("txid") and charge.get("payload"):
            return MediaRef(PIX_QR, str(charge["txid"]))
    return None


def stored_picture(template: str | None, template_vars: Mapping[str, Any] | None) -> MediaRef | None:
    """The picture of a stored message, by the same rule (its variables keep the charges)."""
    charges = (template_vars or {}).get("charges") if template == INSTRUCTIONS_TEMPLATE else None
    if not isinstance(charges, list):
        return None
    return instruction_picture(c for c in charges if isinstance(c, Mapping))


def picture_path(media: MediaRef | None) -> str | None:
    """Where the app serves the picture (``GET /pay/{txid}.png``), relative to its base URL."""
    if media is None or media.kind != PIX_QR:
        return None
    return f"/pay/{media.ref}.png"


class PixQrPictures:
    """The :class:`~bot.channels.base.MediaResolver` of PIX QR codes: the PNG drawn from the
    stored charge's payload, and its public URL when ``ACORDO_PUBLIC_URL`` is set."""

    def __init__(self, uow: UnitOfWorkFactory, public_url: str | None = None) -> None:
        self._uow = uow
        self._public_url = (public_url or "").rstrip("/")

    async def resolve(self, media: MediaRef) -> MediaSpec | None:
        path = picture_path(media)
        if path is None:
            return None
        png = await self.png(media.ref)
        if png is None:
            return None
        return MediaSpec(filename=f"pix-{media.ref}.png", png=png,
                         url=self._public_url + path if self._public_url else None)

    async def png(self, txid: str) -> bytes | None:
        """The QR code of PIX charge ``txid`` as a PNG, or ``None`` when there is no such charge."""
        async with self._uow() as uow:
            charge = await uow.charges.by_txid(txid)
        if charge is None or charge.method != PaymentMethod.PIX:
            return None
        return qr_png(charge.payload)
