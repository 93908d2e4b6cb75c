"""The QR code image of a BR Code payload (PNG), drawn with segno."""

from __future__ import annotations

import io

import segno


def qr_png(payload: str, scale: int = 6) -> bytes:
    """A PNG of the QR code for ``payload`` (error correction M, the quiet zone included)."""
    code = segno.make(payload, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
