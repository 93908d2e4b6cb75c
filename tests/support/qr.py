"""Reading the QR code of a PNG the app serves (zxing-cpp), QR codes only: scanning for every
barcode format now and then finds a phantom 1-D code in a QR picture."""

from __future__ import annotations

import io

import pytest


def decode_png(png: bytes) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    image = pytest.importorskip("PIL.Image")
    return [r.text for r in zxingcpp.read_barcodes(image.open(io.BytesIO(png)),
                                                   formats=zxingcpp.BarcodeFormat.QRCode)]
