"""Fetching the receipts a debtor sends (pictures or PDFs) from the provider's media store.

Only JPEG, PNG and PDF are kept, up to ``max_bytes`` each (``ACORDO_RECEIPT_MAX_BYTES``,
5 MiB by default): the declared type and the type served must both be accepted, and the
download stops as soon as it passes the limit. A file that fails any of this is skipped
(logged), never an error for the message it came with. Credentials go only to the
provider's own address (``trusted_prefix``): a URL elsewhere is not fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import httpx

from bot.channels.base import InboundMedia, Receipt

logger = logging.getLogger(__name__)
RECEIPT_TYPES = frozenset({"image/jpeg", "image/png", "application/pdf"})
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


def _type(value: str) -> str:
    return value.split(";")[0].strip().lower()


class ReceiptFetcher:
    """Downloads receipts with the provider's credentials (basic auth for Twilio)."""

    def __init__(self, client: httpx.AsyncClient, trusted_prefix: str,
                 auth: tuple[str, str] | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._client = client
        self._prefix = trusted_prefix.rstrip("/") + "/"
        self._auth = auth
        self._max = max_bytes

    async def fetch(self, media: Sequence[InboundMedia]) -> list[Receipt]:
        found = []
        for item in media:
            receipt = await self._one(item)
            if receipt is not None:
                found.append(receipt)
        return found

    async def _one(self, item: InboundMedia) -> Receipt | None:
        if _type(item.content_type) not in RECEIPT_TYPES:
            logger.info("receipt skipped: type %r is not accepted", item.content_type)
            return None
        if not item.url.startswith(self._prefix):
            logger.warning("receipt skipped: %s is not the provider's address", item.url[:200])
            return None
        try:
            async with self._client.stream("GET", item.url, auth=self._auth,
                                           follow_redirects=True) as response:
                served = _type(response.headers.get("content-type", item.content_type))
                if response.status_code != 200 or served not in RECEIPT_TYPES:
                    logger.warning("receipt skipped: HTTP %s, type %r", response.status_code, served)
                    return None
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self._max:
                        logger.warning("receipt skipped: larger than %d bytes", self._max)
                        return None
        except httpx.HTTPError as exc:
            logger.warning("receipt skipped: %r", exc)
            return None
        return Receipt(served, bytes(body))
