"""Private chats only: in a group, supergroup or channel the bot says nothing and leaves."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

from bot.services.update_claim import UpdateClaim

logger = logging.getLogger(__name__)
NOT_PRIVATE = F.chat.type != ChatType.PRIVATE


async def _leave(bot: Bot, chat_id: int) -> None:
    try:
        await bot.leave_chat(chat_id)
    except TelegramAPIError as exc:
        logger.info("could not leave chat %s: %s", chat_id, exc)


async def leave_on_group_message(message: Message, bot: Bot, claim: UpdateClaim) -> None:
    await claim.secure()
    await _leave(bot, message.chat.id)


async def leave_channel(post: Message, bot: Bot, claim: UpdateClaim) -> None:
    await claim.secure()
    await _leave(bot, post.chat.id)


async def leave_when_added(event: ChatMemberUpdated, bot: Bot, claim: UpdateClaim) -> None:
    if event.new_chat_member.status in ("member", "administrator", "restricted"):
        await claim.secure()
        await _leave(bot, event.chat.id)


async def ignore_group_button(query: CallbackQuery, claim: UpdateClaim) -> None:
    await claim.secure()
    await query.answer()


def build_router() -> Router:
    """A new router (a router attaches to one dispatcher; each app builds its own)."""
    router = Router(name=__name__)
    router.message.register(leave_on_group_message, NOT_PRIVATE)
    router.channel_post.register(leave_channel)
    router.my_chat_member.register(leave_when_added, NOT_PRIVATE)
    router.callback_query.register(ignore_group_button, F.message.chat.type != ChatType.PRIVATE)
    return router
