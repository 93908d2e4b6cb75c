"""Private messages and inline-button presses go to the conversation pipeline."""

from __future__ import annotations

import contextlib

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, Message, Update

from bot.channels.base import InboundMessage
from bot.channels.telegram_receipts import telegram_receipts
from bot.services.inbound import ChannelInbox
from bot.services.update_claim import UpdateClaim


def _inbound(chat_id: int, text: str, update: Update) -> InboundMessage:
    return InboundMessage("telegram", str(chat_id), text, str(update.update_id))


async def start(message: Message, event_update: Update, inbox: ChannelInbox, claim: UpdateClaim) -> None:
    # A plain /start (no link token) is a greeting; an unknown chat gets the neutral reply.
    await inbox.receive(_inbound(message.chat.id, "/greet", event_update), claim)


async def text_message(message: Message, event_update: Update, inbox: ChannelInbox,
                       claim: UpdateClaim) -> None:
    text = message.text or message.caption or ""
    await inbox.receive(_inbound(message.chat.id, text, event_update), claim)


async def receipt_message(message: Message, event_update: Update, bot: Bot, inbox: ChannelInbox,
                          claim: UpdateClaim, receipt_max_bytes: int) -> None:
    """A photo or a document: the receipt goes on the debtor's payment claim, its caption
    to the dialogue (no caption: thanked without it)."""
    files = await telegram_receipts(bot, message, receipt_max_bytes)
    await inbox.receive(_inbound(message.chat.id, message.caption or "", event_update), claim,
                        receipts=files)


async def button_pressed(query: CallbackQuery, event_update: Update, inbox: ChannelInbox,
                         claim: UpdateClaim) -> None:
    await claim.secure()  # the press is answered before the conversation stores it
    with contextlib.suppress(TelegramAPIError):  # an old button: the press still counts
        await query.answer()
    assert query.message is not None and query.data is not None
    await inbox.receive(_inbound(query.message.chat.id, query.data, event_update), claim)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(F.chat.type == ChatType.PRIVATE)
    router.callback_query.filter(F.message.chat.type == ChatType.PRIVATE)
    router.message.register(start, CommandStart())
    router.message.register(receipt_message, F.photo | F.document)
    router.message.register(text_message)
    router.callback_query.register(button_pressed, F.data)
    return router
