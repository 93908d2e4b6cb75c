"""The PIX QR code as a picture: Telegram uploads it (sendPhoto), WhatsApp links it (MediaUrl),
SMS never carries it, the web chat shows it; queued pictures survive a restart."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.app import create_app
from bot.channels.base import MediaRef
from bot.conversation import commands as cmd
from bot.conversation.outcome import Reply
from bot.devtools.emulators.telegram import TelegramEmulator
from bot.devtools.emulators.twilio import TwilioEmulator
from bot.payments import brcode
from bot.services.payment_pictures import instruction_picture, stored_picture
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage, OutboxStatus
from bot.storage.payment_models import PaymentCharge
from tests.channels.conftest import (
    PUBLIC_URL,
    RITA,
    Stack,
    channel_settings,
    private_message,
    twilio_inbound,
)
from tests.conftest import ADMIN_TOKEN
from tests.support.lifespan import lifespan
from tests.support.qr import decode_png

CHAT = int(RITA["telegram"])
WHATSAPP = f"whatsapp:{RITA['whatsapp']}"
COMMANDS: dict[str, Callable[[str], cmd.Command]] = {
    "a vista": lambda text: cmd.OfferFullPayment(text=text),
    "sim": lambda text: cmd.AcceptOffer(text=text),
    "como pago?": lambda text: cmd.ExplainPaymentMethod(text=text),
}


def negotiate(stack: Stack) -> Callable[[str, str], Awaitable[list[Reply]]]:
    """The dialogue as Rasa's custom actions run it: each text is one negotiation command."""
    async def script(conversation_id: str, text: str) -> list[Reply]:
        outcome = await stack.container.negotiation.execute(conversation_id, COMMANDS[text](text))
        return list(outcome.replies)
    return script


async def pix_charge(stack: Stack) -> PaymentCharge:
    async with stack.container.sessions() as session:
        [charge] = list(await session.scalars(select(PaymentCharge)))
    assert brcode.parse(charge.payload).txid == charge.txid
    return charge


async def agree_on_telegram(stack: Stack) -> None:
    stack.dialogue.script = negotiate(stack)
    for update_id, text in ((30, "a vista"), (31, "sim")):
        assert (await stack.telegram_update(private_message(update_id, CHAT, text))).status_code == 200
        await stack.container.channels.inbound.wait_idle()


async def test_telegram_gets_the_qr_code_as_an_uploaded_photo(stack: Stack) -> None:
    await agree_on_telegram(stack)
    await stack.settle()
    charge = await pix_charge(stack)
    photos = [d for d in stack.telegram.deliveries if d.media]
    assert [r.method for r in stack.telegram.sends()] == ["sendMessage", "sendMessage", "sendPhoto"]
    [photo] = photos
    [png] = photo.media
    assert isinstance(png, bytes) and decode_png(png) == [charge.payload]
    # The instructions are the caption: the copia e cola stays text the debtor can copy.
    assert charge.payload in photo.text and photo.params["caption"] == photo.text
    assert photo.key == "reply:telegram:31:1"
    async with stack.container.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(
            OutboxMessage.idempotency_key == "reply:telegram:31:1"))
    assert row is not None and (row.media_kind, row.media_ref, row.status) == ("pix_qr", charge.txid, "sent")


@pytest.mark.parametrize("settings_overrides", [{}, {"public_url": None}])
async def test_whatsapp_gets_the_public_url_of_the_qr_code(stack: Stack, settings_overrides: dict[str, Any]
                                                           ) -> None:
    stack.dialogue.script = negotiate(stack)
    for sid, text in (("SM30", "a vista"), ("SM31", "sim")):
        response = await stack.twilio_post("/channels/twilio/messages", twilio_inbound(sid, WHATSAPP, text))
        assert response.status_code == 200
        await stack.container.channels.inbound.wait_idle()
    await stack.settle()
    charge = await pix_charge(stack)
    instructions = [d for d in stack.twilio.deliveries if charge.payload in d.text]
    assert len(instructions) == 1 and len(stack.twilio.deliveries) == 3
    if settings_overrides.get("public_url", PUBLIC_URL) is None:  # Twilio has nowhere to fetch it
        assert all(d.media == () for d in stack.twilio.deliveries)
        return
    [url] = instructions[0].media
    assert url == f"{PUBLIC_URL}/pay/{charge.txid}.png"
    assert instructions[0].params["MediaUrl"] == url  # the form field Twilio's API takes
    served = await stack.http.get(url.removeprefix(PUBLIC_URL))
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert decode_png(served.content) == [charge.payload]


async def test_sms_never_carries_media(stack: Stack) -> None:
    stack.dialogue.script = negotiate(stack)
    for sid, text in (("SM40", "a vista"), ("SM41", "sim")):
        await stack.twilio_post("/channels/twilio/messages", twilio_inbound(sid, RITA["sms"], text))
        await stack.container.channels.inbound.wait_idle()
    await stack.settle()
    assert len(stack.twilio.deliveries) == 3
    assert all(d.media == () and "MediaUrl" not in d.params for d in stack.twilio.deliveries)
    async with stack.container.sessions() as session:
        kinds = set(await session.scalars(select(OutboxMessage.media_kind)))
    assert kinds == {None}


async def test_a_queued_picture_is_sent_by_the_next_process_after_a_crash(
        stack: Stack, tmp_path: Path, emulators: tuple[TelegramEmulator, TwilioEmulator]) -> None:
    await agree_on_telegram(stack)
    # A dispatcher claimed the rows and died: nothing was sent, the leases expire.
    async with stack.container.sessions() as session:
        await session.execute(update(OutboxMessage).values(
            status=OutboxStatus.SENDING.value, claimed_by="dead-worker",
            lease_until=stack.container.clock.now() - timedelta(seconds=1)))
        await session.commit()
    assert stack.telegram.deliveries == []
    charge = await pix_charge(stack)
    telegram, twilio = emulators
    restarted = create_app(channel_settings(tmp_path, telegram.base_url, twilio), clock=stack.container.clock,
                           dialogue=stack.dialogue)
    async with lifespan(restarted):
        runtime = restarted.state.container.channels
        await runtime.new_dispatcher(backoff_base=0.01, poll_interval=0.01).run_until_idle()
    [photo] = [d for d in telegram.deliveries if d.media]
    assert isinstance(photo.media[0], bytes) and decode_png(photo.media[0]) == [charge.payload]
    assert len(telegram.deliveries) == 3


async def test_the_web_reply_carries_the_image_url(stack: Stack) -> None:
    stack.dialogue.script = negotiate(stack)
    sender = RITA["web"]
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    await stack.http.post("/channels/web/messages", json={"sender": sender, "text": "a vista"},
                          headers=admin)
    response = await stack.http.post("/channels/web/messages", json={"sender": sender, "text": "sim"},
                                     headers=admin)
    assert response.status_code == 200
    charge = await pix_charge(stack)
    created, instructions = response.json()["replies"]
    assert set(created) == {"text", "buttons"}  # replies without a picture keep the documented shape
    assert instructions["image"] == f"/pay/{charge.txid}.png" and charge.payload in instructions["text"]
    served = await stack.http.get(instructions["image"])
    assert decode_png(served.content) == [charge.payload]
    # The same picture for instructions pushed later (stored queued, fetched by the page).
    async with stack.container.sessions() as session:
        await session.execute(update(db.Message).where(db.Message.template == "payment_instructions")
                              .values(status="queued"))
        await session.commit()
    pushed = (await stack.http.get("/channels/web/messages", params={"sender": sender},
                                   headers=admin)).json()
    assert [m.get("image") for m in pushed["messages"]] == [f"/pay/{charge.txid}.png"]


async def test_a_rate_limited_send_is_counted_in_the_app_metrics(stack: Stack) -> None:
    outbox = stack.container.channels.outbox
    for n in range(2):  # one chat: the second waits its per-chat interval (about 1.1 s)
        await outbox.enqueue(channel="telegram", address=str(CHAT), text=f"m{n}", idempotency_key=f"k{n}")
    await stack.settle()
    metrics = (await stack.http.get("/metrics",
                                    headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})).text
    [waits] = [line for line in metrics.splitlines()
               if line.startswith('acordo_rate_limit_waits_total{channel="telegram"}')]
    [seconds] = [line for line in metrics.splitlines()
                 if line.startswith('acordo_rate_limit_wait_seconds_total{channel="telegram"}')]
    assert float(waits.split()[-1]) == 1.0 and float(seconds.split()[-1]) >= 0.9


def test_the_picture_is_the_next_pix_charge_due() -> None:
    charges = [{"method": "boleto", "txid": "AC1", "payload": "23790..."},
               {"method": "pix", "txid": "AC2", "payload": "000201..."},
               {"method": "pix", "txid": "AC3", "payload": "000201..."}]
    assert instruction_picture(charges) == MediaRef("pix_qr", "AC2")
    assert instruction_picture(charges[:1]) is None
    assert stored_picture("payment_instructions", {"charges": charges}) == MediaRef("pix_qr", "AC2")
    assert stored_picture("agreement_created", {"charges": charges}) is None
    reply = Reply("payment_instructions", {"charges": charges}, media=MediaRef("pix_qr", "AC2"))
    assert Reply.from_payload(reply.as_payload()) == reply  # through Rasa and back
    assert "media" not in Reply("greet").as_payload()

