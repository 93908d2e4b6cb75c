"""The two signed tokens an e-mail carries for its contact, under ``ACORDO_LINK_SECRET``.

- **Opt-out** (``List-Unsubscribe``, RFC 8058, and the footer's link): ``/u/<token>`` opts
  the contact out in one click, like the opt-out keywords. It never expires: a reminder read
  months later must still let its reader leave.
- **Reply** (the plus-addressed ``Reply-To``: ``cobranca+<token>@<domain>``): names the
  contact a reply belongs to, before ``In-Reply-To`` or the sender's address are tried.

A token is ``<contact id>.<HMAC-SHA256 of purpose and id, 80 bits, base32>``: short enough
for an address' local part, case-insensitive (mail servers may change the case), and
useless for any other contact or purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_TOKEN = re.compile(r"^([0-9]{1,12})\.([a-z2-7]{16})$")


class MailTokens:
    def __init__(self, secret: str) -> None:
        self._key = secret.encode("utf-8")

    def _mac(self, purpose: str, contact_id: int) -> str:
        digest = hmac.new(self._key, f"{purpose}:{contact_id}".encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:10]).decode("ascii").lower()

    def _issue(self, purpose: str, contact_id: int) -> str:
        return f"{contact_id}.{self._mac(purpose, contact_id)}"

    def _read(self, purpose: str, token: str) -> int | None:
        found = _TOKEN.fullmatch(token.strip().lower())
        if found is None:
            return None
        contact_id = int(found.group(1))
        expected = self._mac(purpose, contact_id)
        return contact_id if hmac.compare_digest(expected, found.group(2)) else None

    def opt_out(self, contact_id: int) -> str:
        return self._issue("opt-out", contact_id)

    def read_opt_out(self, token: str) -> int | None:
        """The contact an opt-out token names, or ``None`` (forged, malformed, other purpose)."""
        return self._read("opt-out", token)

    def reply(self, contact_id: int) -> str:
        return self._issue("reply", contact_id)

    def read_reply(self, token: str) -> int | None:
        return self._read("reply", token)
