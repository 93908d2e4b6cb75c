"""Long polling for local development: each update is stored like a webhook delivery, then processed."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError

from bot.inbound.telegram_routes import ALLOWED_UPDATES
from bot.services.inbound import InboundProcessor

logger = logging.getLogger(__name__)


async def poll_updates(bot: Bot, inbound: InboundProcessor, stop: asyncio.Event, timeout: int = 25) -> None:
    await bot.delete_webhook(drop_pending_updates=False)
    await inbound.resume()
    offset: int | None = None
    while not stop.is_set():
        try:
            poll = asyncio.ensure_future(bot.get_updates(offset=offset, timeout=timeout,
                                                         allowed_updates=ALLOWED_UPDATES,
                                                         request_timeout=timeout + 10))
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait([poll, stopped], return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not poll.done():
                poll.cancel()
                break
            updates = poll.result()
        except (TelegramNetworkError, TelegramAPIError) as exc:
            logger.warning("getUpdates failed: %s; retrying", exc)
            await asyncio.sleep(2)
            continue
        for update in updates:
            payload = update.model_dump(mode="json", by_alias=True, exclude_none=True)
            stored = await inbound.store("telegram", str(update.update_id), payload)
            if stored is not None:
                inbound.process_later(stored, "telegram", payload)
            offset = update.update_id + 1
        await inbound.wait_idle()
