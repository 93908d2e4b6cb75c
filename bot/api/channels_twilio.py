"""Twilio webhooks (``/channels/twilio/messages`` and ``/status``): inbound WhatsApp/SMS and
delivery status, signature-checked.

The signature covers the URL Twilio called: with ``ACORDO_PUBLIC_URL`` set, that public
base plus the request path is validated (the app behind a proxy sees another host).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from bot.api.deps import ContainerDep
from bot.channels.twilio import channel_of

router = APIRouter(tags=["channels"])
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def verified_form(request: Request, container: ContainerDep) -> dict[str, str]:
    runtime = container.channels
    validator = runtime.twilio_validator
    if validator is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the Twilio channels are off")
    form = await request.form()
    params = {key: str(value) for key, value in form.multi_items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = runtime.public_url(path, str(request.url))
    if not signature or not validator.validate(url, params, signature):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or invalid Twilio signature")
    return params


TwilioForm = Annotated[dict[str, str], Depends(verified_form)]


@router.post("/channels/twilio/messages")
async def twilio_message(params: TwilioForm, container: ContainerDep) -> Response:
    runtime = container.channels
    channel = channel_of(params.get("From", ""))
    sid = params.get("MessageSid") or params.get("SmsSid")
    if channel in runtime.channels and sid:
        stored = await runtime.inbound.store(channel, sid, params)
        if stored is not None:
            runtime.inbound.process_later(stored, channel, params)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/channels/twilio/status", status_code=status.HTTP_204_NO_CONTENT)
async def twilio_status(params: TwilioForm, container: ContainerDep) -> Response:
    runtime = container.channels
    channel = runtime.channels.get(channel_of(params.get("To", "")))
    report = channel.parse_status(params) if channel is not None else None
    if report is not None:
        await runtime.outbox.apply_report(report)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
