"""A Twilio REST emulator: ``POST /2010-04-01/Accounts/{Sid}/Messages.json`` like Twilio.

Form-encoded, basic auth (account SID and auth token). Errors use Twilio's JSON
(``{"code", "message", "more_info", "status"}``): 20003 bad credentials, 20429 too many
requests, 21610 unsubscribed recipient, 21617 a ``Body`` over 1,600 characters, 21619
neither body nor media. ``MediaUrl`` (repeated for several pictures) is recorded in the
delivery's ``media``. Requests carrying an ``I-Twilio-Idempotency-Token`` already answered
are not delivered twice. Status callbacks and inbound messages are signed with the auth
token exactly like Twilio's ``X-Twilio-Signature`` (:meth:`TwilioEmulator.signed`).

Media a debtor sends: :meth:`TwilioEmulator.add_media` keeps a file and gives its URL, to
put in an inbound message as ``MediaUrl<n>`` (with ``NumMedia`` and ``MediaContentType<n>``,
:meth:`TwilioEmulator.inbound_media`); ``GET`` on it answers the bytes with basic auth
only, like Twilio's media resource.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

from aiohttp import web
from twilio.request_validator import RequestValidator

from bot.devtools.emulators.observed import Delivery, Faults, Observed, Request

BODY_MAX = 1600  # characters of a Body; longer is refused with 21617


class TwilioEmulator(Observed):
    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-auth-token",
                 faults: Faults | None = None, seed: int = 0) -> None:
        super().__init__(faults, seed)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.opted_out: set[str] = set()
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.media: dict[str, tuple[str, bytes]] = {}  # media sid -> (content type, bytes)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media}", self._media)
        return app

    def add_media(self, message_sid: str, content_type: str, content: bytes) -> str:
        """Keep a file the debtor sent with ``message_sid``; its URL (``MediaUrl<n>``)."""
        media_sid = "ME" + uuid.uuid4().hex
        self.media[media_sid] = (content_type, content)
        account = f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}"
        return f"{account}/Messages/{message_sid}/Media/{media_sid}"

    def inbound_media(self, message_sid: str, files: list[tuple[str, bytes]]) -> dict[str, str]:
        """The inbound form fields for ``files`` sent with ``message_sid`` (kept here)."""
        fields = {"NumMedia": str(len(files))}
        for n, (content_type, content) in enumerate(files):
            fields[f"MediaUrl{n}"] = self.add_media(message_sid, content_type, content)
            fields[f"MediaContentType{n}"] = content_type
        return fields

    async def _media(self, request: web.Request) -> web.Response:
        if not self._authorized(request) or request.match_info["sid"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        found = self.media.get(request.match_info["media"])
        if found is None:
            return _error(404, 20404, "The requested resource was not found")
        return web.Response(body=found[1], content_type=found[0])

    def signed(self, url: str, params: dict[str, str]) -> dict[str, str]:
        """The ``X-Twilio-Signature`` header Twilio would send for ``params`` posted to ``url``."""
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        return {"X-Twilio-Signature": signature}

    async def _create(self, request: web.Request) -> web.Response:
        at = self.now()
        if not self._authorized(request) or request.match_info["sid"] != self.account_sid:
            return _error(401, 20003, "Authenticate")
        posted = await request.post()
        media = tuple(str(url) for url in posted.getall("MediaUrl", []))
        form = {k: str(v) for k, v in posted.items()}
        to = form.get("To", "")
        key = request.headers.get("I-Twilio-Idempotency-Token")
        if key and key in self.by_key:
            self.requests.append(Request(at, "Messages", to, key, "duplicate"))
            return web.json_response(self.by_key[key], status=201)
        if not form.get("Body") and not form.get("ContentSid") and not media:
            self.requests.append(Request(at, "Messages", to, key, "400"))
            return _error(400, 21619, "A text message body or media URL must be specified.")
        if len(form.get("Body", "")) > BODY_MAX:
            self.requests.append(Request(at, "Messages", to, key, "400"))
            return _error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        if to.removeprefix("whatsapp:") in self.opted_out:
            self.requests.append(Request(at, "Messages", to, key, "400"))
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        fault = self.draw_fault()
        if fault == "429":
            self.requests.append(Request(at, "Messages", to, key, "429"))
            return _error(429, 20429, "Too Many Requests")
        if fault == "5xx":
            self.requests.append(Request(at, "Messages", to, key, "5xx"))
            return _error(503, 20500, "Service Unavailable")
        sid = "SM" + uuid.uuid4().hex
        resource = self._resource(sid, form, len(media))
        self.deliveries.append(Delivery(at, to, form.get("Body", ""), key, sid, form, media))
        if key:
            self.by_key[key] = resource
        self.requests.append(Request(at, "Messages", to, key, fault or "ok"))
        if fault == "timeout":
            await asyncio.sleep(self.faults.timeout_delay)
        return web.json_response(resource, status=201)

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return user == self.account_sid and password == self.auth_token

    def _resource(self, sid: str, form: dict[str, str], media: int = 0) -> dict[str, Any]:
        return {
            "sid": sid, "account_sid": self.account_sid, "status": "queued", "direction": "outbound-api",
            "to": form.get("To"), "from": form.get("From"), "body": form.get("Body", ""),
            "num_segments": "1", "num_media": str(media), "error_code": None, "error_message": None,
            "date_created": None, "date_sent": None, "date_updated": None, "price": None,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "status": status,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}"}, status=status)
