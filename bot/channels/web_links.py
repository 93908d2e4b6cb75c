"""Portal link tokens: who may speak on the web channel without the admin token.

A token names one creditor, one debtor (external id) and the web contact address it
speaks as, and when it stops working. It is signed with HMAC-SHA256 under
``ACORDO_LINK_SECRET``, so a forged token is refused without a database read; the link
is also stored, by the SHA-256 of its token only (:func:`token_hash`,
``bot/services/portal_links.py``), so that it can be revoked and its uses counted.
Changing the secret still ends every link at once.

Format (URL-safe, no padding): ``v1.<payload>.<signature>`` where ``payload`` is the
base64url of ``{"c": creditor, "d": debtor, "a": address, "e": expiry (Unix seconds),
"n": nonce}`` and ``signature`` the base64url HMAC of ``"acordo-portal.v1." + payload``.
The random nonce makes every issued token (and its hash) distinct.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.clock import Clock

VERSION = "v1"
_CONTEXT = b"acordo-portal."
MAX_TOKEN_CHARS = 1000


class InvalidLink(ValueError):
    """``reason``: ``invalid`` (malformed, forged, another secret, not stored), ``expired``
    or ``revoked``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PortalLink:
    creditor: str
    debtor: str
    address: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256, hex (64 characters)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class PortalLinkSigner:
    def __init__(self, secret: str, clock: Clock) -> None:
        if len(secret) < 16:
            raise ValueError("the link secret needs at least 16 characters")
        self._key = hashlib.sha256(_CONTEXT + secret.encode()).digest()
        self.clock = clock

    def _sign(self, payload: str) -> str:
        message = _CONTEXT + VERSION.encode() + b"." + payload.encode("ascii")
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def issue(self, creditor: str, debtor: str, address: str, lifetime: timedelta
              ) -> tuple[str, PortalLink]:
        expires = self.clock.now() + lifetime
        seconds = int(expires.timestamp())
        link = PortalLink(creditor, debtor, address, datetime.fromtimestamp(seconds, UTC))
        body = json.dumps({"c": creditor, "d": debtor, "a": address, "e": seconds,
                           "n": secrets.token_urlsafe(12)},
                          separators=(",", ":"), ensure_ascii=False)
        payload = _b64(body.encode())
        return f"{VERSION}.{payload}.{self._sign(payload)}", link

    def verify(self, token: str) -> PortalLink:
        """The link ``token`` stands for; raises :class:`InvalidLink`."""
        parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
        if len(parts) != 3 or parts[0] != VERSION:
            raise InvalidLink("invalid")
        _, payload, signature = parts
        try:
            expected = self._sign(payload)
        except UnicodeEncodeError as exc:
            raise InvalidLink("invalid") from exc
        if not hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode()):
            raise InvalidLink("invalid")
        try:
            data = json.loads(_unb64(payload))
            link = PortalLink(str(data["c"]), str(data["d"]), str(data["a"]),
                              datetime.fromtimestamp(int(data["e"]), UTC))
        except (binascii.Error, ValueError, KeyError, TypeError, OverflowError) as exc:
            raise InvalidLink("invalid") from exc
        if link.expires_at <= self.clock.now():
            raise InvalidLink("expired")
        return link
