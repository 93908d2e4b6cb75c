"""WhatsApp and SMS through the twilio library: the two ``Channel`` adapters and their client.

The real :class:`twilio.rest.Client` is used with an async HTTP client that sends every
request to ``ACORDO_TWILIO_API_URL`` instead of ``https://api.twilio.com`` (the local
emulator in tests) and adds the outbox row's idempotency key (``I-Twilio-Idempotency-Token``).

WhatsApp's 24-hour rule: free text only within 24 h of the debtor's last inbound message;
outside it only an approved template (Content SID per template and locale, from
``ACORDO_WHATSAPP_TEMPLATES``) may go, and free text is refused before calling Twilio.
SMS texts are shortened to ``ACORDO_SMS_MAX_SEGMENTS`` and their segments reported.

Pictures: Twilio fetches media from a public URL (``MediaUrl``), so a WhatsApp message
carries its picture only when it has one (``ACORDO_PUBLIC_URL/pay/<txid>.png``); without
it the text goes alone. SMS never carries media. Outside WhatsApp's 24-hour window a
template goes without the picture.

Long WhatsApp texts: Twilio refuses a ``Body`` over 1,600 characters (error 21617), so a
longer free text goes as several messages in order (see :meth:`TwilioChannel.send`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from aiohttp import ClientError
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.channels.base import (
    TEXT_LIMITS,
    DeliveryReport,
    DeliveryState,
    InboundMedia,
    InboundMessage,
    OutboundMessage,
    Refused,
    RetryLater,
    SendReceipt,
    Undeliverable,
    fits_caption,
    part_key,
    split_text,
)
from bot.channels.sms import count_segments, for_sms, shorten
from bot.config import WhatsAppTemplate
from bot.contact_rules.whatsapp import whatsapp_window_open

TWILIO_API = "https://api.twilio.com"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
WHATSAPP_MAX_CHARS = TEXT_LIMITS["whatsapp"][0]  # Twilio refuses a longer Body (21617)
_idempotency_key: ContextVar[str | None] = ContextVar("twilio_idempotency_key", default=None)

# Terminal Twilio error codes that mean "this address cannot be reached on this channel".
UNREACHABLE_CODES = {21610, 21211, 21612, 21614, 63003, 63024}
WINDOW_CODES = {63016}  # WhatsApp: outside the 24-hour window (Twilio's own check)
RATE_LIMIT_CODES = {20429, 14107}

_STATES = {
    "accepted": DeliveryState.QUEUED, "scheduled": DeliveryState.QUEUED,
    "queued": DeliveryState.QUEUED, "sending": DeliveryState.QUEUED,
    "sent": DeliveryState.SENT, "delivered": DeliveryState.DELIVERED, "read": DeliveryState.READ,
    "failed": DeliveryState.FAILED, "undelivered": DeliveryState.FAILED,
    "canceled": DeliveryState.FAILED,
}


ContentTemplates = Mapping[str, Mapping[str, WhatsAppTemplate]]


class RoutedTwilioHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async HTTP client, redirected to ``base_url`` and idempotency-keyed."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._base = base_url.rstrip("/")

    async def request(self, method: str, url: str, params: Any = None, data: Any = None,
                      headers: dict[str, str] | None = None, auth: Any = None,
                      timeout: float | None = None, allow_redirects: bool = False) -> Response:
        if url.startswith(TWILIO_API):
            url = self._base + url[len(TWILIO_API):]
        headers = dict(headers or {})
        key = _idempotency_key.get()
        if key:
            headers[IDEMPOTENCY_HEADER] = key
        if auth is not None:  # the header itself: aiohttp deprecates its BasicAuth helper
            user, password = auth
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        return await super().request(method, url, params=params, data=data, headers=headers,
                                     auth=None, timeout=timeout, allow_redirects=allow_redirects)


def build_twilio_client(account_sid: str, auth_token: str, api_url: str,
                        timeout: float = 10.0) -> Client:
    """The real twilio ``Client``; call inside a running event loop (aiohttp session)."""
    return Client(account_sid, auth_token,
                  http_client=RoutedTwilioHttpClient(api_url, timeout))


def with_options(text: str, buttons: Any) -> str:
    """Text channels have no buttons: their titles are listed for the debtor to type."""
    titles = [b.title for b in buttons]
    return text if not titles else text + "\n\n" + "\n".join(f"• {t}" for t in titles)


class TwilioChannel:
    """WhatsApp (``kind="whatsapp"``) or SMS (``kind="sms"``) over one Twilio sender."""

    def __init__(self, client: Client, kind: str, sender: str, *,
                 status_callback: str | None = None,
                 templates: ContentTemplates | None = None,
                 now: Callable[[], datetime],
                 sms_max_segments: int = 3) -> None:
        if kind not in ("whatsapp", "sms"):
            raise ValueError(f"unknown Twilio channel {kind!r}")
        self.name = kind
        self.client = client
        self._sender = _prefixed(sender) if kind == "whatsapp" else sender
        self._status_callback = status_callback
        self._templates = templates or {}
        self._now = now
        self._max_segments = sms_max_segments

    # -- inbound -----------------------------------------------------------------------------

    def parse_inbound(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        sender = str(payload.get("From") or "")
        sid = str(payload.get("MessageSid") or payload.get("SmsSid") or "")
        if not sender or not sid or channel_of(sender) != self.name:
            return None
        text = str(payload.get("ButtonPayload") or payload.get("Body") or "")
        return InboundMessage(self.name, address_of(sender), text, sid, media_of(payload))

    def parse_status(self, payload: Mapping[str, Any]) -> DeliveryReport | None:
        sid = payload.get("MessageSid") or payload.get("SmsSid")
        state = _STATES.get(str(payload.get("MessageStatus") or payload.get("SmsStatus") or ""))
        if not sid or state is None:
            return None
        code = payload.get("ErrorCode")
        return DeliveryReport(str(sid), state, str(code) if code else None)

    # -- outbound ----------------------------------------------------------------------------

    def _requests(self, message: OutboundMessage) -> tuple[list[dict[str, Any]], SendReceipt | None]:
        """The ``messages.create`` calls that send ``message``, in order (one, except a long
        WhatsApp text), and for SMS the receipt's segment count."""
        params: dict[str, Any] = {"from_": self._sender}
        if self._status_callback:
            params["status_callback"] = self._status_callback
        if self.name == "sms":
            body = shorten(for_sms(with_options(message.text, message.buttons)), self._max_segments)
            if not body:
                raise Refused("sms: no text to send (SMS carries no pictures)")
            count = count_segments(body)
            params.update(to=message.address, body=body)
            return [params], SendReceipt("", segments=count.segments, encoding=count.encoding)
        params["to"] = _prefixed(message.address)
        if whatsapp_window_open(message.last_inbound_at, self._now()):
            return _free_text(params, with_options(message.text, message.buttons), message), None
        template = self._template_for(message)
        if template is None:
            raise Refused(f"whatsapp: outside the 24-hour window and no approved template for "
                          f"{message.template!r} ({message.locale})")
        params["content_sid"] = template.sid
        values = {str(i): str(message.template_vars.get(name, ""))
                  for i, name in enumerate(template.variables, start=1)}
        if values:
            params["content_variables"] = json.dumps(values, ensure_ascii=False)
        return [params], None

    def _template_for(self, message: OutboundMessage) -> WhatsAppTemplate | None:
        if message.template is None:
            return None
        by_locale = self._templates.get(message.template) or {}
        return by_locale.get(message.locale or "") or next(iter(by_locale.values()), None)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Send ``message``: one ``messages.create``, or for a WhatsApp text over
        :data:`WHATSAPP_MAX_CHARS` one per part, in order, part ``i`` keyed
        ``<key>:part<i>`` (the first keeps the key) so a retry resends no part twice.

        The receipt names the last part's SID: its status callbacks settle the stored
        message, so "delivered" means the last part was (the earlier parts report to no row).
        An error on any part is raised as it is classified; a retry sends the whole again,
        the parts already accepted being answered from their keys.
        """
        requests, receipt = self._requests(message)
        sid = ""
        for number, params in enumerate(requests, start=1):
            sid = await self._create(params, part_key(message.idempotency_key, number))
        if receipt is not None:
            return SendReceipt(sid, segments=receipt.segments, encoding=receipt.encoding)
        return SendReceipt(sid)

    async def _create(self, params: dict[str, Any], key: str | None) -> str:
        """One ``messages.create`` under idempotency key ``key``; its SID."""
        token = _idempotency_key.set(key)
        try:
            created = await self.client.messages.create_async(**params)
        except TwilioRestException as exc:
            raise _classify(exc) from exc
        except (TimeoutError, ClientError) as exc:
            raise RetryLater(f"twilio: {type(exc).__name__}") from exc
        finally:
            _idempotency_key.reset(token)
        return str(created.sid)


def _free_text(params: dict[str, Any], body: str, message: OutboundMessage) -> list[dict[str, Any]]:
    """WhatsApp inside the 24-hour window: ``body`` in parts of at most
    :data:`WHATSAPP_MAX_CHARS`, the picture with the first as its caption when that fits one
    (1024 characters, WhatsApp's caption limit), else the picture alone before them."""
    picture = message.media.url if message.media is not None else None
    texts = split_text(body, WHATSAPP_MAX_CHARS)
    if not picture and not texts:
        raise Refused("whatsapp: a picture alone needs a public URL (ACORDO_PUBLIC_URL)")
    requests = [{**params, "body": text} for text in texts]
    if picture and requests and fits_caption(texts[0]):
        requests[0]["media_url"] = [picture]
    elif picture:
        requests.insert(0, {**params, "media_url": [picture]})
    return requests


def _classify(exc: TwilioRestException) -> Exception:
    code = int(exc.code) if isinstance(exc.code, int | str) and str(exc.code).isdigit() else 0
    reason = f"twilio {exc.status} {code}: {exc.msg}"[:400]
    if code in RATE_LIMIT_CODES or exc.status == 429:
        return RetryLater(reason)
    if exc.status >= 500:
        return RetryLater(reason)
    if code in WINDOW_CODES:
        return Refused(reason)
    return Undeliverable(reason, unreachable=code in UNREACHABLE_CODES)


def _prefixed(address: str) -> str:
    return address if address.startswith("whatsapp:") else f"whatsapp:{address}"


def channel_of(twilio_address: str) -> str:
    prefix = twilio_address.partition(":")[0]
    return {"whatsapp": "whatsapp"}.get(prefix, "sms")


def address_of(twilio_address: str) -> str:
    """Our contact address: the E.164 number without Twilio's ``whatsapp:`` prefix."""
    return twilio_address.removeprefix("whatsapp:")


MAX_INBOUND_MEDIA = 10  # Twilio sends at most ten files with one message


def media_of(payload: Mapping[str, Any]) -> tuple[InboundMedia, ...]:
    """The files of an inbound message: ``NumMedia``, ``MediaUrl<n>``, ``MediaContentType<n>``."""
    try:
        count = min(int(str(payload.get("NumMedia") or "0")), MAX_INBOUND_MEDIA)
    except ValueError:
        return ()
    found = []
    for n in range(max(count, 0)):
        url = str(payload.get(f"MediaUrl{n}") or "")
        if url:
            found.append(InboundMedia(url, str(payload.get(f"MediaContentType{n}") or "")))
    return tuple(found)
