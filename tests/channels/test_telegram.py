"""Telegram through the real aiogram Dispatcher and Bot, against the Bot API emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.channels import telegram as telegram_channel
from bot.channels.base import (
    ButtonSpec,
    MediaSpec,
    OutboundMessage,
    RetryLater,
    Undeliverable,
    utf16_len,
)
from bot.channels.telegram import MESSAGE_MAX_CHARS, TelegramChannel, build_bot
from bot.clock import RunningClock
from bot.devtools.emulators.observed import Delivery
from bot.devtools.emulators.telegram import TelegramEmulator
from bot.payments.qr import qr_png
from bot.storage import models as db
from bot.storage.channel_models import InboundUpdate, OutboxMessage
from tests.channels.conftest import RITA, SECRET, Stack, button_press, private_message
from tests.conftest import ADMIN_TOKEN, NOW

CHAT = int(RITA["telegram"])


async def count(stack: Stack, model: type, *where: object) -> int:
    async with stack.container.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def test_start_sets_webhook_with_secret(stack: Stack) -> None:
    assert stack.telegram.webhook["url"] == "https://acordo.example.com/channels/telegram/webhook"
    assert stack.telegram.webhook["secret_token"] == SECRET


async def test_forged_webhook_is_refused_and_nothing_processed(stack: Stack) -> None:
    for secret in (None, "", "wrong-secret"):
        response = await stack.telegram_update(private_message(1, CHAT, "oi"), secret=secret)
        assert response.status_code == 401
    await stack.settle()
    assert await count(stack, InboundUpdate) == 0
    assert await count(stack, db.Message) == 0
    assert stack.telegram.deliveries == [] and stack.dialogue.calls == []


async def test_private_message_is_answered_with_inline_keyboard(stack: Stack) -> None:
    response = await stack.telegram_update(private_message(10, CHAT, "bom dia"))
    assert response.status_code == 200 and response.json() == {"ok": True}
    await stack.settle()
    [delivery] = stack.telegram.deliveries
    assert delivery.chat == str(CHAT)
    keyboard = delivery.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == ["/affirm", "/deny"]
    assert delivery.key == "reply:telegram:10:0"
    async with stack.container.sessions() as session:
        statuses = list(await session.scalars(select(db.Message.status).order_by(db.Message.id)))
    assert statuses == ["processed", "sent"]


async def test_button_press_reaches_the_dialogue_as_its_payload(stack: Stack) -> None:
    await stack.telegram_update(button_press(11, CHAT, "/affirm"))
    await stack.settle()
    assert [text for _, text in stack.dialogue.calls] == ["/affirm"]
    assert ("answerCallbackQuery", {"callback_query_id": "cb11"}) in [
        (m, {k: v for k, v in p.items() if k == "callback_query_id"}) for m, p in stack.telegram.calls]


async def test_duplicate_update_gives_one_message_and_one_reply(stack: Stack) -> None:
    for _ in range(3):
        assert (await stack.telegram_update(private_message(12, CHAT, "quanto devo?"))).status_code == 200
    await stack.settle()
    assert await count(stack, db.Message, db.Message.direction == "in") == 1
    assert len(stack.telegram.deliveries) == 1
    assert len(stack.dialogue.calls) == 1


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
async def test_group_chat_gets_nothing_and_the_bot_leaves(stack: Stack, chat_type: str) -> None:
    await stack.telegram_update(private_message(13, -100500, "quanto a acme deve?", chat_type))
    await stack.settle()
    assert stack.telegram.left_chats == ["-100500"]
    assert stack.telegram.deliveries == [] and stack.dialogue.calls == []
    assert await count(stack, db.Message) == 0


async def test_added_to_a_group_leaves_at_once(stack: Stack) -> None:
    member = {"id": 4242, "is_bot": True, "first_name": "Acordo"}
    update = {"update_id": 14, "my_chat_member": {
        "chat": {"id": -77, "type": "group", "title": "t"}, "date": 1_780_000_000,
        "from": {"id": 5, "is_bot": False, "first_name": "X"},
        "old_chat_member": {"status": "left", "user": member},
        "new_chat_member": {"status": "member", "user": member}}}
    await stack.telegram_update(update)
    await stack.settle()
    assert stack.telegram.left_chats == ["-77"] and stack.telegram.deliveries == []


async def test_unknown_private_chat_gets_the_neutral_reply(stack: Stack) -> None:
    await stack.telegram_update(private_message(15, 999, "quanto a acme deve?"))
    await stack.settle()
    [delivery] = stack.telegram.deliveries
    for secret in ("Acme", "1.000", "NF", "Distribuidora"):
        assert secret not in delivery.text
    assert stack.dialogue.calls == []


async def test_deep_link_links_a_chat_once(stack: Stack) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    issued = await stack.http.post("/api/v1/telegram/link-tokens", headers=admin,
                                   json={"debtor_external_id": "acme", "contact_name": "Bruno Lima"})
    assert issued.status_code == 201
    token = issued.json()["token"]
    assert issued.json()["link"] == f"https://t.me/acordo_test_bot?start={token}"
    await stack.telegram_update(private_message(20, 2002, f"/start {token}"))
    await stack.settle()
    await stack.telegram_update(private_message(21, 3003, f"/start {token}"))  # someone else
    await stack.telegram_update(private_message(22, 4004, "/start not-a-token"))
    await stack.settle()
    texts = {d.chat: d.text for d in stack.telegram.deliveries}
    assert "Bruno" in texts["2002"] and "ligado" in texts["2002"]
    assert "não é válido" in texts["3003"] and "não é válido" in texts["4004"]
    async with stack.container.sessions() as session:
        contact = await session.scalar(select(db.Contact).where(db.Contact.address == "2002"))
        assert contact is not None and contact.name == "Bruno Lima" and contact.channel == "telegram"
        assert await session.scalar(select(db.Contact).where(db.Contact.address == "3003")) is None
    # the linked chat now talks to the bot about its debtor
    await stack.telegram_update(private_message(23, 2002, "oi"))
    await stack.settle()
    assert len(stack.dialogue.calls) == 1


async def test_link_token_needs_admin_and_known_debtor(stack: Stack) -> None:
    body = {"debtor_external_id": "acme", "contact_name": "X"}
    assert (await stack.http.post("/api/v1/telegram/link-tokens", json=body)).status_code == 401
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    missing = await stack.http.post("/api/v1/telegram/link-tokens", headers=admin,
                                    json={**body, "debtor_external_id": "nobody"})
    assert missing.status_code == 404


async def test_blocked_chat_marks_contact_unreachable_on_telegram_only(stack: Stack) -> None:
    stack.telegram.blocked.add(str(CHAT))
    await stack.telegram_update(private_message(30, CHAT, "oi"))
    await stack.settle()
    assert stack.telegram.deliveries == []
    async with stack.container.sessions() as session:
        statuses = dict((await session.execute(select(db.Contact.channel, db.Contact.status))).all())
        row = await session.scalar(select(OutboxMessage))
    assert statuses["telegram"] == "unreachable"
    assert statuses["whatsapp"] == statuses["sms"] == "active"
    assert row is not None and row.status == "failed" and "403" in (row.last_error or "")
    # The debtor unblocks the bot and writes again: the chat is reachable again, and answered.
    stack.telegram.blocked.discard(str(CHAT))
    await stack.telegram_update(private_message(31, CHAT, "voltei"))
    await stack.settle()
    async with stack.container.sessions() as session:
        statuses = dict((await session.execute(select(db.Contact.channel, db.Contact.status))).all())
    assert statuses["telegram"] == "active"
    assert [d.chat for d in stack.telegram.deliveries] == [str(CHAT)]


async def test_webhook_mode_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    from bot.bootstrap import build_container
    from bot.bootstrap.channels import ChannelConfigurationError
    from bot.devtools.emulators.twilio import TwilioEmulator
    from tests.channels.conftest import ButtonDialogue, channel_settings

    settings = channel_settings(tmp_path, "http://127.0.0.1:9", TwilioEmulator(),
                                telegram_webhook_secret=None)
    with pytest.raises(ChannelConfigurationError, match="ACORDO_TELEGRAM_WEBHOOK_SECRET"):
        async with build_container(settings, clock=RunningClock(NOW), dialogue=ButtonDialogue()):
            pass


# -- long texts and pictures: nothing dropped, each message within Telegram's limits ------------

@pytest.fixture
async def telegram() -> AsyncIterator[tuple[TelegramChannel, TelegramEmulator]]:
    emulator = TelegramEmulator()
    await emulator.start()
    bot = build_bot(emulator.token, emulator.base_url, timeout=2)
    try:
        yield TelegramChannel(bot, 2), emulator
    finally:
        await bot.session.close()
        await emulator.stop()


def message(text: str, key: str = "reply:telegram:9:1", png: bytes | None = None) -> OutboundMessage:
    return OutboundMessage(channel="telegram", address=str(CHAT), text=text, idempotency_key=key,
                           buttons=(ButtonSpec("Já paguei", "/paid"),),
                           media=MediaSpec("pix-AC1.png", png) if png else None)


def paragraphs(size: int, filler: str = "x") -> str:
    """About ``size`` characters of 300-character paragraphs."""
    return "\n\n".join(f"{n}ª parcela: " + filler * 280 for n in range(1, size // 300 + 1))


def has_keyboard(delivery: Delivery) -> bool:
    return bool(delivery.params.get("reply_markup"))


async def test_a_picture_and_a_text_too_long_for_its_caption_both_arrive(
        telegram: tuple[TelegramChannel, TelegramEmulator]) -> None:
    channel, emulator = telegram
    png = qr_png("00020126360014br.gov.bcb.pix")
    text = paragraphs(2000)
    receipt = await channel.send(message(text, png=png))
    assert [r.method for r in emulator.sends()] == ["sendPhoto", "sendMessage"]
    photo, instructions = emulator.deliveries
    assert photo.media == (png,) and "caption" not in photo.params and not has_keyboard(photo)
    assert instructions.text == text and has_keyboard(instructions)
    assert [photo.key, instructions.key] == ["reply:telegram:9:1", "reply:telegram:9:1:part2"]
    assert receipt.provider_id == instructions.provider_id
    assert await channel.send(message(text, png=png)) == receipt and len(emulator.deliveries) == 2


async def test_a_text_over_4096_goes_as_several_messages_the_keyboard_on_the_last(
        telegram: tuple[TelegramChannel, TelegramEmulator]) -> None:
    channel, emulator = telegram
    text = paragraphs(6000, filler="😀")  # counted as Telegram does: each emoji is 2 units
    assert len(text) < 2 * MESSAGE_MAX_CHARS < utf16_len(text) < 3 * MESSAGE_MAX_CHARS
    receipt = await channel.send(message(text))
    sent = emulator.deliveries
    assert len(sent) == 3 and [r.method for r in emulator.sends()] == ["sendMessage"] * 3
    assert all(utf16_len(d.text) <= MESSAGE_MAX_CHARS for d in sent)
    assert "\n\n".join(d.text for d in sent) == text  # cut between paragraphs only
    assert [has_keyboard(d) for d in sent] == [False, False, True]
    assert [d.key for d in sent] == ["reply:telegram:9:1", "reply:telegram:9:1:part2",
                                     "reply:telegram:9:1:part3"]
    assert receipt.provider_id == sent[-1].provider_id


async def test_9000_characters_are_three_messages_sent_once(
        telegram: tuple[TelegramChannel, TelegramEmulator]) -> None:
    channel, emulator = telegram
    text = paragraphs(9000)
    receipt = await channel.send(message(text))
    assert [utf16_len(d.text) <= MESSAGE_MAX_CHARS for d in emulator.deliveries] == [True] * 3
    assert "\n\n".join(d.text for d in emulator.deliveries) == text
    assert await channel.send(message(text)) == receipt  # the outbox retried: nothing new
    assert len(emulator.deliveries) == 3


async def test_a_retry_after_a_failed_part_sends_each_part_once(
        telegram: tuple[TelegramChannel, TelegramEmulator]) -> None:
    channel, emulator = telegram
    png = qr_png("00020126360014br.gov.bcb.pix")
    emulator.scripted.extend(["ok", "5xx"])  # the picture goes, the text fails
    with pytest.raises(RetryLater):
        await channel.send(message(paragraphs(2000), png=png))
    receipt = await channel.send(message(paragraphs(2000), png=png))
    assert [r.outcome for r in emulator.requests] == ["ok", "5xx", "duplicate", "ok"]
    assert [bool(d.media) for d in emulator.deliveries] == [True, False]
    assert receipt.provider_id == emulator.deliveries[-1].provider_id


async def test_telegram_refuses_a_text_over_4096(
        telegram: tuple[TelegramChannel, TelegramEmulator], monkeypatch: pytest.MonkeyPatch) -> None:
    channel, emulator = telegram
    monkeypatch.setattr(telegram_channel, "MESSAGE_MAX_CHARS", 100_000)  # as the adapter was
    with pytest.raises(Undeliverable, match="message is too long") as refused:
        await channel.send(message("😀" * 2049))  # 2049 characters, 4098 UTF-16 code units
    assert not refused.value.unreachable and emulator.deliveries == []
    assert [r.outcome for r in emulator.requests] == ["400"]
