"""``/start <token>``: link this private chat to the contact the creditor issued the token for."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, Update

from bot.channels.base import InboundMessage
from bot.services.inbound import ChannelInbox
from bot.services.telegram_links import TelegramLinks
from bot.services.update_claim import UpdateClaim


async def link_chat(message: Message, command: CommandObject, event_update: Update,
                    links: TelegramLinks, inbox: ChannelInbox, claim: UpdateClaim) -> None:
    await claim.secure()  # the token is redeemed in a transaction of its own
    inbound = InboundMessage("telegram", str(message.chat.id), message.text or "",
                             str(event_update.update_id))
    result = await links.redeem(command.args or "", inbound.address)
    await inbox.reply_with(inbound, result.reply, result.locale, claim)


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.register(link_chat, CommandStart(deep_link=True), F.chat.type == ChatType.PRIVATE)
    return router
