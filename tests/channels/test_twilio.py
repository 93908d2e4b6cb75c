"""WhatsApp and SMS through the real twilio Client, against the Twilio REST emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.storage import models as db
from bot.storage.channel_models import InboundUpdate, OutboxMessage
from tests.channels.conftest import PUBLIC_URL, RITA, Stack, twilio_inbound

WHATSAPP = f"whatsapp:{RITA['whatsapp']}"


async def stored(stack: Stack, model: type) -> int:
    async with stack.container.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_forged_twilio_requests_are_refused(stack: Stack) -> None:
    params = twilio_inbound("SMforged", WHATSAPP, "oi")
    for path in ("/channels/twilio/messages", "/channels/twilio/status"):
        signed = stack.twilio.signed(PUBLIC_URL + path, params)
        forgeries = [
            await stack.twilio_post(path, params, signature=""),                      # missing
            await stack.twilio_post(path, params, signature="bm90IGEgc2lnbmF0dXJl"),  # garbage
            await stack.twilio_post(path, params, sign_url="https://evil.example.com" + path),
            await stack.http.post(path, data={**params, "Body": "paguei tudo"}, headers=signed),
        ]
        assert [r.status_code for r in forgeries] == [403] * 4
    await stack.settle()
    assert await stored(stack, InboundUpdate) == 0 and await stored(stack, db.Message) == 0
    assert stack.dialogue.calls == []


@pytest.mark.parametrize(("sender", "channel"), [(WHATSAPP, "whatsapp"), (RITA["sms"], "sms")])
async def test_inbound_is_answered_through_the_rest_api_once(stack: Stack, sender: str, channel: str) -> None:
    params = twilio_inbound("SM100", sender, "bom dia")
    for _ in range(2):  # Twilio retried the webhook
        response = await stack.twilio_post("/channels/twilio/messages", params)
        assert response.status_code == 200 and "<Response>" in response.text
    await stack.settle()
    [delivery] = stack.twilio.deliveries
    assert delivery.chat == sender and delivery.params["From"].endswith("+551190000000" + (
        "1" if channel == "whatsapp" else "0"))
    assert "• " in delivery.text  # the offer buttons become options to type
    assert delivery.params["StatusCallback"] == PUBLIC_URL + "/channels/twilio/status"
    assert len(stack.dialogue.calls) == 1
    async with stack.container.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == "sent" and row.provider_id == delivery.provider_id
    if channel == "sms":
        assert row.encoding == "UCS-2" and row.segments and row.segments >= 1


async def test_status_callbacks_only_move_forward(stack: Stack) -> None:
    await stack.twilio_post("/channels/twilio/messages", twilio_inbound("SM200", WHATSAPP, "oi"))
    await stack.settle()
    sid = stack.twilio.deliveries[0].provider_id

    async def report(status: str) -> None:
        params = {"MessageSid": sid, "MessageStatus": status, "To": WHATSAPP,
                  "From": "whatsapp:+5511900000001"}
        assert (await stack.twilio_post("/channels/twilio/status", params)).status_code == 204

    for status in ("delivered", "sent", "queued", "read", "delivered"):
        await report(status)
    async with stack.container.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row is not None and row.status == "read"
        message = await session.get(db.Message, row.message_id)
        assert message is not None and message.status == "read"


async def test_status_callback_validates_behind_a_proxy(stack: Stack) -> None:
    # The app sees http://internal:8000/...; Twilio signed the public URL: that is what counts.
    params = {"MessageSid": "SMunknown", "MessageStatus": "delivered", "To": WHATSAPP}
    headers = stack.twilio.signed(PUBLIC_URL + "/channels/twilio/status", params)
    response = await stack.http.post("http://internal:8000/channels/twilio/status", data=params,
                                     headers=headers)
    assert response.status_code == 204


async def enqueue_bot_message(stack: Stack, channel: str, address: str, **fields: Any) -> None:
    async with stack.container.sessions() as session:
        contact = await session.scalar(select(db.Contact).where(db.Contact.channel == channel))
        assert contact is not None
    await stack.container.channels.outbox.enqueue(
        channel=channel, address=address, contact_id=contact.id, initiated_by="bot",
        idempotency_key=f"reminder:{channel}:1", locale="pt-BR", **fields)


async def set_last_inbound(stack: Stack, at: datetime) -> None:
    async with stack.container.sessions() as session:
        contact = await session.scalar(select(db.Contact).where(db.Contact.channel == "whatsapp"))
        assert contact is not None
        conversation = db.Conversation(contact_id=contact.id, channel="whatsapp", address=contact.address,
                                       last_inbound_at=at)
        session.add(conversation)
        await session.commit()


async def test_free_text_outside_the_24_hour_window_is_refused_before_twilio(stack: Stack) -> None:
    await set_last_inbound(stack, datetime.now(UTC) - timedelta(hours=25))
    await enqueue_bot_message(stack, "whatsapp", RITA["whatsapp"], text="Lembrete: NF 9 vence amanhã",
                              template="reminder_upcoming")
    await stack.settle()
    assert stack.twilio.requests == []
    async with stack.container.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
        contact = await session.scalar(select(db.Contact).where(db.Contact.channel == "whatsapp"))
    assert row is not None and row.status == "failed" and "24-hour" in (row.last_error or "")
    assert contact is not None and contact.status == "active"


async def test_free_text_inside_the_window_goes_as_text(stack: Stack) -> None:
    await set_last_inbound(stack, datetime.now(UTC) - timedelta(hours=23))
    await enqueue_bot_message(stack, "whatsapp", RITA["whatsapp"], text="Lembrete",
                              template="reminder_upcoming")
    await stack.settle()
    [delivery] = stack.twilio.deliveries
    assert delivery.params["Body"] == "Lembrete" and "ContentSid" not in delivery.params


class TestApprovedTemplates:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"whatsapp_templates": {"reminder_upcoming": {
            "pt-BR": {"sid": "HX" + "a" * 32, "variables": ["contact_name", "amount"]},
            "en": "HX" + "b" * 32}}}

    async def test_outside_the_window_a_template_goes_by_content_sid(self, stack: Stack) -> None:
        await enqueue_bot_message(stack, "whatsapp", RITA["whatsapp"], text="Lembrete",
                                  template="reminder_upcoming",
                                  template_vars={"contact_name": "Rita", "amount": "1.000,00"})
        await stack.settle()
        [delivery] = stack.twilio.deliveries
        assert delivery.params["ContentSid"] == "HX" + "a" * 32 and "Body" not in delivery.params
        assert delivery.params["ContentVariables"] == '{"1": "Rita", "2": "1.000,00"}'


async def test_carrier_opt_out_21610_marks_sms_contact_unreachable(stack: Stack) -> None:
    stack.twilio.opted_out.add(RITA["sms"])
    await stack.twilio_post("/channels/twilio/messages", twilio_inbound("SM300", RITA["sms"], "oi"))
    await stack.settle()
    async with stack.container.sessions() as session:
        statuses = dict((await session.execute(select(db.Contact.channel, db.Contact.status))).all())
        row = await session.scalar(select(OutboxMessage))
    assert statuses["sms"] == "unreachable" and statuses["whatsapp"] == "active"
    assert row is not None and row.status == "failed" and "21610" in (row.last_error or "")
