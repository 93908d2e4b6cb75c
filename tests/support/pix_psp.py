"""The API Pix emulator wired to a test app: mutual TLS certificates, the settings, and the
emulator's webhook delivered to the app through its ASGI client."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.devtools.emulators.certificates import PKIFiles
from bot.devtools.emulators.pix import PixEmulator

WEBHOOK_SECRET = "whk-9f2c1e7b5a"
PUBLIC_URL = "https://acordo.example"


def pix_settings(pki: PKIFiles, emulator: PixEmulator, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pix_api_url": emulator.base_url, "pix_client_id": emulator.client_id,
        "pix_client_secret": emulator.client_secret, "pix_cert": pki.client_cert,
        "pix_key": pki.client_key, "pix_ca": pki.ca, "pix_chave": emulator.chave,
        "pix_webhook_secret": WEBHOOK_SECRET, "pix_timeout_seconds": 2.0}
    values.update(overrides)
    return values


class AppSender:
    """Delivers the emulator's callbacks to the app under test (its path, through ASGI)."""

    def __init__(self) -> None:
        self.http: httpx.AsyncClient | None = None

    async def __call__(self, url: str, body: bytes) -> int:
        assert self.http is not None, "the app is not up"
        parts = urlsplit(url)
        response = await self.http.post(parts.path, content=body,
                                        headers={"Content-Type": "application/json"})
        return response.status_code


def webhook_url() -> str:
    return f"{PUBLIC_URL}/payments/pix/{WEBHOOK_SECRET}"


def pki_dir(tmp_path_factory: Any) -> Path:
    return Path(tmp_path_factory.mktemp("pki"))
