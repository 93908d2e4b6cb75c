"""One contract, every channel: parse inbound, send once per idempotency key, report status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.headerregistry import Address
from typing import Any

import pytest

from bot.channels.base import (
    ButtonSpec,
    Channel,
    DeliveryReport,
    InboundMessage,
    MediaSpec,
    OutboundMessage,
    SendReceipt,
)
from bot.channels.email import EmailChannel, SmtpServer
from bot.channels.fake import FakeChannel
from bot.channels.telegram import TelegramChannel, build_bot
from bot.channels.twilio import TwilioChannel, build_twilio_client
from bot.channels.web import WebChannel
from bot.devtools.emulators.telegram import TelegramEmulator
from bot.devtools.emulators.twilio import TwilioEmulator
from bot.payments.qr import qr_png
from tests.channels.conftest import private_message, twilio_inbound
from tests.support.smtp import SmtpSink

NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


@dataclass
class Harness:
    channel: Channel
    address: str
    inbound: dict[str, Any]        # a payload with one debtor message
    foreign: dict[str, Any]        # a payload that is not one (group chat, other channel, junk)
    status: dict[str, Any] | None  # a delivery status payload, if the channel has them
    delivered: Callable[[], int]   # deliveries the provider side saw
    pictures: Callable[[], list[Any]]  # what each delivery carried as pictures


async def telegram_harness() -> AsyncIterator[Harness]:
    emulator = TelegramEmulator()
    await emulator.start()
    bot = build_bot(emulator.token, emulator.base_url, timeout=2)
    try:
        yield Harness(TelegramChannel(bot, 2), "1001", private_message(7, 1001, "oi"),
                      private_message(8, -5, "oi", "group"), None, lambda: len(emulator.deliveries),
                      lambda: [d.media for d in emulator.deliveries])
    finally:
        await bot.session.close()
        await emulator.stop()


def twilio_harness(kind: str) -> Callable[[], AsyncIterator[Harness]]:
    async def harness() -> AsyncIterator[Harness]:
        emulator = TwilioEmulator()
        await emulator.start()
        client = build_twilio_client(emulator.account_sid, emulator.auth_token, emulator.base_url, 2)
        address = "+5511999990001"
        sender = f"whatsapp:{address}" if kind == "whatsapp" else address
        other = address if kind == "whatsapp" else f"whatsapp:{address}"
        channel = TwilioChannel(client, kind, "+5511900000000", now=lambda: NOW)
        try:
            yield Harness(channel, address, twilio_inbound("SM1", sender, "oi"),
                          twilio_inbound("SM2", other, "oi"),
                          {"MessageSid": "SM9", "MessageStatus": "delivered", "To": sender},
                          lambda: len(emulator.deliveries), lambda: [d.media for d in emulator.deliveries])
        finally:
            await client.http_client.close()
            await emulator.stop()
    return harness


async def web_harness() -> AsyncIterator[Harness]:
    channel = WebChannel()
    yield Harness(channel, "rita@acme.com.br", {"sender": "rita@acme.com.br", "text": "oi", "id": "w1"},
                  {"sender": "", "text": "oi"}, None,
                  lambda: sum(len(v) for v in channel.mailbox.values()),
                  lambda: [m.media for v in channel.mailbox.values() for m in v])


def email_pictures(sink: SmtpSink) -> list[Any]:
    return [tuple(part.get_content() for part in got.message.walk()
                  if part.get_content_maintype() == "image") for got in sink.received]


async def email_harness() -> AsyncIterator[Harness]:
    sink = SmtpSink().start()
    channel = EmailChannel(SmtpServer("127.0.0.1", sink.port, "none", timeout=5),
                           Address("Distribuidora Exemplo", "cobranca", "exemplo.com.br"), now=lambda: NOW)
    reply = ("From: Rita <rita@acme.com.br>\nTo: cobranca@exemplo.com.br\nSubject: Re: fatura\n"
             "Message-ID: <r1@acme.com.br>\n\noi\n")
    out_of_office = reply.replace("Subject: Re: fatura", "Subject: Resposta automática: ausente")
    bounce = ("From: MAILER-DAEMON@acme.com.br\nMessage-ID: <b1@acme.com.br>\nMIME-Version: 1.0\n"
              'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
              "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; acme.com.br\n\n"
              "Final-Recipient: rfc822; rita@acme.com.br\nAction: delivered\nStatus: 2.0.0\n\n"
              "--B\nContent-Type: text/rfc822-headers\n\nMessage-ID: <k.acordo@exemplo.com.br>\n\n--B--\n")
    try:
        yield Harness(channel, "rita@acme.com.br", {"raw": reply}, {"raw": out_of_office},
                      {"raw": bounce}, lambda: len(sink.received), lambda: email_pictures(sink))
    finally:
        sink.stop()


async def fake_harness() -> AsyncIterator[Harness]:
    channel = FakeChannel()
    yield Harness(channel, "fake-1", {"from": "fake-1", "id": "f1", "text": "oi"}, {"text": "x"},
                  {"id": "fake-1", "status": "delivered"}, lambda: len(channel.sent),
                  lambda: [m.media for m in channel.sent])


HARNESSES = {"telegram": telegram_harness, "whatsapp": twilio_harness("whatsapp"),
             "sms": twilio_harness("sms"), "web": web_harness, "email": email_harness,
             "fake": fake_harness}


@pytest.fixture(params=list(HARNESSES))
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    async for value in HARNESSES[request.param]():
        yield value


def outbound(h: Harness, key: str, text: str = "Olá! Sua proposta está pronta.") -> OutboundMessage:
    return OutboundMessage(channel=h.channel.name, address=h.address, text=text, idempotency_key=key,
                           buttons=(ButtonSpec("Aceitar", "/affirm"),), last_inbound_at=NOW)


async def test_implements_the_protocol(harness: Harness) -> None:
    assert isinstance(harness.channel, Channel)
    assert harness.channel.name in ("telegram", "whatsapp", "sms", "web", "email", "fake")


async def test_parses_a_debtor_message_with_its_provider_id(harness: Harness) -> None:
    message = harness.channel.parse_inbound(harness.inbound)
    assert isinstance(message, InboundMessage)
    assert message.channel == harness.channel.name
    assert message.address == harness.address and message.text == "oi" and message.provider_id


async def test_ignores_what_is_not_a_debtor_message(harness: Harness) -> None:
    assert harness.channel.parse_inbound(harness.foreign) is None


async def test_send_returns_a_provider_id(harness: Harness) -> None:
    receipt = await harness.channel.send(outbound(harness, "k-1"))
    assert isinstance(receipt, SendReceipt) and receipt.provider_id
    assert harness.delivered() == 1


async def test_same_idempotency_key_delivers_once(harness: Harness) -> None:
    first = await harness.channel.send(outbound(harness, "k-2"))
    again = await harness.channel.send(outbound(harness, "k-2"))
    assert first.provider_id == again.provider_id
    assert harness.delivered() == 1
    await harness.channel.send(outbound(harness, "k-3"))
    assert harness.delivered() == 2


async def test_reports_delivery_status_when_the_channel_has_it(harness: Harness) -> None:
    assert harness.channel.parse_status({"junk": "1"}) is None
    if harness.status is not None:
        report = harness.channel.parse_status(harness.status)
        assert isinstance(report, DeliveryReport) and report.state == "delivered"


async def test_a_picture_goes_once_and_only_where_the_channel_can_carry_it(harness: Harness) -> None:
    png = qr_png("00020126360014br.gov.bcb.pix")
    picture = MediaSpec("pix-AC1.png", png, "https://acordo.example.com/pay/AC1.png")
    message = replace(outbound(harness, "k-pic", "PIX copia e cola: 000201..."), media=picture)
    first = await harness.channel.send(message)
    again = await harness.channel.send(message)
    assert first.provider_id == again.provider_id and harness.delivered() == 1
    expected = {"telegram": (png,),                  # uploaded (sendPhoto, multipart)
                "whatsapp": (picture.url,),          # fetched by Twilio (MediaUrl)
                "sms": (),                           # never
                "email": (png,),                     # inline in the HTML part (cid:)
                "web": picture, "fake": picture}     # kept with the message
    assert harness.pictures() == [expected[harness.channel.name]]
