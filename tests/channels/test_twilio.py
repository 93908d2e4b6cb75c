"""WhatsApp and SMS through the real twilio Client, against the Twilio REST emulator."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.channels import twilio as twilio_channel
from bot.channels.base import ButtonSpec, MediaSpec, OutboundMessage, RetryLater, Undeliverable, split_text
from bot.channels.twilio import WHATSAPP_MAX_CHARS, TwilioChannel, build_twilio_client, with_options
from bot.devtools.emulators.twilio import TwilioEmulator
from bot.payments import brcode
from bot.rendering.renderer import TemplateRenderer
from bot.storage import models as db
from bot.storage.channel_models import InboundUpdate, OutboxMessage
from tests.channels.conftest import PUBLIC_URL, RITA, Stack, twilio_inbound

WHATSAPP = f"whatsapp:{RITA['whatsapp']}"
ROOT = Path(__file__).resolve().parents[2]


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
    # the offer buttons become options to type; an SMS goes in GSM-7 when that is cheaper
    assert ("• " if channel == "whatsapp" else "- ") in delivery.text
    assert delivery.params["StatusCallback"] == PUBLIC_URL + "/channels/twilio/status"
    assert len(stack.dialogue.calls) == 1
    async with stack.container.sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == "sent" and row.provider_id == delivery.provider_id
    if channel == "sms":
        assert row.encoding == "GSM-7" and row.segments and row.segments >= 1
        assert "ç" not in delivery.text and "ã" not in delivery.text


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
    await set_last_inbound(stack, stack.container.clock.now() - timedelta(hours=25))
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
    await set_last_inbound(stack, stack.container.clock.now() - timedelta(hours=23))
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


# -- long WhatsApp texts: several messages, each within Twilio's 1,600 characters -------------

NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
QR_URL = f"{PUBLIC_URL}/pay/AC1.png"


@pytest.fixture
async def whatsapp() -> AsyncIterator[tuple[TwilioChannel, TwilioEmulator]]:
    emulator = TwilioEmulator()
    await emulator.start()
    client = build_twilio_client(emulator.account_sid, emulator.auth_token, emulator.base_url, 2)
    try:
        yield TwilioChannel(client, "whatsapp", "+5511900000001", now=lambda: NOW), emulator
    finally:
        await client.http_client.close()
        await emulator.stop()


def ten_installments() -> str:
    """Payment instructions of a 10-installment plan, rendered by the real template."""
    charges = []
    for n in range(1, 11):
        txid = f"AC{n:023d}"
        payload = brcode.build("52601815908369", "Distribuidora Exemplo Ltda", "Sao Paulo",
                               Decimal("612.00"), txid, f"Acordo 77 parcela {n} de 10")
        charges.append({"number": n, "amount": Decimal("612.00"), "method": "pix", "payload": payload,
                        "due_date": date(2026, 12, 1) + timedelta(days=30 * (n - 1)),
                        "qr_url": f"{PUBLIC_URL}/pay/{txid}.png"})
    return TemplateRenderer(ROOT / "templates").render("payment_instructions", "pt-BR",
                                                        {"charges": charges})


def long_message(text: str, key: str = "reply:whatsapp:7:1", picture: bool = True) -> OutboundMessage:
    return OutboundMessage(channel="whatsapp", address=RITA["whatsapp"], text=text, idempotency_key=key,
                           buttons=(ButtonSpec("Já paguei", "/paid"),), last_inbound_at=NOW,
                           media=MediaSpec("pix-AC1.png", b"png", QR_URL) if picture else None)


def words(text: str) -> list[str]:
    return text.split()


async def test_long_instructions_go_as_several_messages_in_order(
        whatsapp: tuple[TwilioChannel, TwilioEmulator]) -> None:
    channel, emulator = whatsapp
    text = ten_installments()
    body = with_options(text, [ButtonSpec("Já paguei", "/paid")])
    assert len(body) > 2 * WHATSAPP_MAX_CHARS  # what Twilio refused whole (21617)
    receipt = await channel.send(long_message(text))
    picture, *parts = emulator.deliveries
    # The picture first, alone (the instructions do not fit its 1024-character caption) ...
    assert picture.media == (QR_URL,) and "Body" not in picture.params
    # ... then the text: as few messages as fit, each within the limit, nothing lost, in order.
    fewest = math.ceil(len(body) / WHATSAPP_MAX_CHARS)
    assert len(parts) == len(split_text(body, WHATSAPP_MAX_CHARS)) == fewest
    assert all(len(p.text) <= WHATSAPP_MAX_CHARS and p.media == () for p in parts)
    assert words(" ".join(p.text for p in parts)) == words(body)
    assert parts[-1].text.endswith("• Já paguei")
    assert [d.key for d in emulator.deliveries] == [
        "reply:whatsapp:7:1", *(f"reply:whatsapp:7:1:part{i}" for i in range(2, len(parts) + 2))]
    # The stored message follows the last part (its status callbacks settle it).
    assert receipt.provider_id == parts[-1].provider_id
    again = await channel.send(long_message(text))
    assert again == receipt and len(emulator.deliveries) == len(parts) + 1


async def test_a_retry_after_a_failed_part_sends_each_part_once(
        whatsapp: tuple[TwilioChannel, TwilioEmulator]) -> None:
    channel, emulator = whatsapp
    text = ten_installments()
    sends = 1 + len(split_text(with_options(text, [ButtonSpec("Já paguei", "/paid")]), WHATSAPP_MAX_CHARS))
    emulator.scripted.extend(["ok", "ok", "5xx"])  # the picture and part 2 go; part 3 fails
    with pytest.raises(RetryLater):
        await channel.send(long_message(text))
    assert len(emulator.deliveries) == 2
    receipt = await channel.send(long_message(text))  # the outbox retries the row, same key
    assert [r.outcome for r in emulator.requests] == [
        "ok", "ok", "5xx", "duplicate", "duplicate", *["ok"] * (sends - 2)]
    assert len({d.key for d in emulator.deliveries}) == len(emulator.deliveries) == sends
    assert receipt.provider_id == emulator.deliveries[-1].provider_id


async def test_the_picture_carries_a_text_that_fits_its_caption(
        whatsapp: tuple[TwilioChannel, TwilioEmulator]) -> None:
    channel, emulator = whatsapp
    caption = "Como pagar: PIX copia e cola 000201...\n\n" + "x" * 900
    medium = "Como pagar: PIX\n\n" + "palavra " * 170  # over a caption, within a message
    await channel.send(long_message(caption, "k-caption"))
    await channel.send(long_message(medium, "k-medium"))
    one, picture, text = emulator.deliveries
    assert one.media == (QR_URL,) and one.text.startswith(caption)
    assert picture.media == (QR_URL,) and picture.text == "" and text.media == ()
    assert text.text.startswith(medium.strip()) and text.key == "k-medium:part2"


async def test_a_long_text_without_a_picture_is_only_text(
        whatsapp: tuple[TwilioChannel, TwilioEmulator]) -> None:
    channel, emulator = whatsapp
    text = "\n\n".join(f"Parcela {n}: " + "x" * 500 for n in range(1, 8))  # about 3,600 characters
    receipt = await channel.send(long_message(text, picture=False))
    # whole paragraphs, as many as fit; the options to type close the last
    assert [len(d.text.split("\n\n")) for d in emulator.deliveries] == [3, 3, 2]
    assert all(d.media == () for d in emulator.deliveries)
    assert receipt.provider_id == emulator.deliveries[-1].provider_id


async def test_twilio_refuses_a_body_over_1600_characters(
        whatsapp: tuple[TwilioChannel, TwilioEmulator], monkeypatch: pytest.MonkeyPatch) -> None:
    channel, emulator = whatsapp
    monkeypatch.setattr(twilio_channel, "WHATSAPP_MAX_CHARS", 10_000)  # as the adapter was
    with pytest.raises(Undeliverable, match="21617") as refused:
        await channel.send(long_message("x " * 801, picture=False))
    assert not refused.value.unreachable and emulator.deliveries == []
    async with httpx.AsyncClient(auth=(emulator.account_sid, emulator.auth_token)) as http:
        response = await http.post(f"{emulator.base_url}/2010-04-01/Accounts/{emulator.account_sid}"
                                   "/Messages.json", data={"To": WHATSAPP, "Body": "x" * 1601})
    assert response.status_code == 400
    assert response.json()["code"] == 21617 and response.json()["status"] == 400
