"""aiogram routers for the Telegram channel, one per feature, combined in :func:`build_dispatcher`."""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher

from bot.inbound.telegram_routes import groups, linking, messages

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member", "channel_post"]


def build_dispatcher(**dependencies: Any) -> Dispatcher:
    """The dispatcher; ``dependencies`` (``inbox``, ``links``) and the ``claim`` fed with each
    update (:class:`~bot.services.update_claim.UpdateClaim`) reach handlers by parameter name."""
    dispatcher = Dispatcher(**dependencies)
    dispatcher.include_routers(groups.build_router(), linking.build_router(), messages.build_router())
    return dispatcher
