"""Receipts a debtor sends on Telegram (a photo, or a PDF/picture as a document), fetched
through the Bot API: ``getFile`` gives the file's path, then the file is downloaded.

Accepted as on WhatsApp (``bot/channels/receipts.py``): JPEG, PNG and PDF up to the size
limit; a photo is Telegram's JPEG, its largest size. A file that fails is skipped (logged).
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import Message
from aiohttp import ClientError

from bot.channels.base import Receipt
from bot.channels.receipts import RECEIPT_TYPES

logger = logging.getLogger(__name__)


def _wanted(message: Message) -> list[tuple[str, str, int | None]]:
    """(file id, content type, size) of the message's photo and document."""
    found = []
    if message.photo:
        largest = message.photo[-1]
        found.append((largest.file_id, "image/jpeg", largest.file_size))
    document = message.document
    if document is not None:
        kind = (document.mime_type or "").split(";")[0].strip().lower()
        if kind in RECEIPT_TYPES:
            found.append((document.file_id, kind, document.file_size))
        else:
            logger.info("receipt skipped: document of type %r", document.mime_type)
    return found


async def telegram_receipts(bot: Bot, message: Message, max_bytes: int) -> list[Receipt]:
    receipts = []
    for file_id, kind, size in _wanted(message):
        if size is not None and size > max_bytes:
            logger.warning("receipt skipped: %d bytes, more than %d", size, max_bytes)
            continue
        try:
            file = await bot.get_file(file_id)
            if not file.file_path:
                continue
            data = await bot.download_file(file.file_path)
        except (TimeoutError, TelegramAPIError, ClientError) as exc:
            logger.warning("receipt skipped: %r", exc)
            continue
        content = data.read() if data is not None else b""
        if content and len(content) <= max_bytes:
            receipts.append(Receipt(kind, content))
    return receipts
