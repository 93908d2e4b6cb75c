"""Telegram through aiogram 3: the ``Channel`` adapter and the ``Bot`` it sends with.

The bot's HTTP session is aiogram's own aiohttp session pointed at
``ACORDO_TELEGRAM_API_URL`` through ``TelegramAPIServer.from_base`` (the local emulator in
tests and the benchmark). Each send carries the outbox row's idempotency key in an
``Idempotency-Key`` header: the emulator honours it; Telegram ignores it (see
docs/channels.md on what that means for timeouts).

A message with a picture is one ``sendPhoto``: the PNG uploaded (multipart), the text as
its caption with the keyboard. The outbox gives a text too long for a caption (1024
characters) a row of its own after the picture, so the "copia e cola" stays copyable text;
a message that still has both goes as the picture alone, then the text. A text over 4096
characters (Telegram's limit) goes as several messages, the keyboard on the last.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import TelegramMethod, TelegramType
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiohttp import ClientError, ClientTimeout

from bot.channels.base import (
    TEXT_LIMITS,
    DeliveryReport,
    InboundMessage,
    OutboundMessage,
    RetryLater,
    SendReceipt,
    Undeliverable,
    fits_caption,
    part_key,
    split_text,
    utf16_len,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
_idempotency_key: ContextVar[str | None] = ContextVar("telegram_idempotency_key", default=None)
CALLBACK_DATA_MAX_BYTES = 64
MESSAGE_MAX_CHARS = TEXT_LIMITS["telegram"][0]  # sendMessage text, UTF-16 units ("message is too long")


class IdempotentSession(AiohttpSession):
    """aiogram's aiohttp session, adding the current send's ``Idempotency-Key`` header."""

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType],
                           timeout: int | None = None) -> TelegramType:
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        form = self.build_form_data(bot=bot, method=method)
        key = _idempotency_key.get()
        headers = {IDEMPOTENCY_HEADER: key} if key else None
        try:
            limit = ClientTimeout(total=self.timeout if timeout is None else timeout)
            async with session.post(url, data=form, headers=headers, timeout=limit) as resp:
                raw_result = await resp.text()
        except TimeoutError as e:
            raise TelegramNetworkError(method=method, message="Request timeout error") from e
        except ClientError as e:
            raise TelegramNetworkError(method=method, message=f"{type(e).__name__}: {e}") from e
        response = self.check_response(bot=bot, method=method, status_code=resp.status,
                                       content=raw_result)
        return cast(TelegramType, response.result)


def build_bot(token: str, api_url: str, timeout: float = 10.0) -> Bot:
    """A real aiogram ``Bot`` whose session talks to ``api_url`` (Telegram or the emulator)."""
    session = IdempotentSession(api=TelegramAPIServer.from_base(api_url), timeout=timeout)
    return Bot(token=token, session=session)


def keyboard(buttons: Any) -> InlineKeyboardMarkup | None:
    """One inline button per row; payloads too long for ``callback_data`` are left out."""
    rows = [[InlineKeyboardButton(text=b.title, callback_data=b.payload)]
            for b in buttons if len(b.payload.encode()) <= CALLBACK_DATA_MAX_BYTES]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def inbound_from_update(update: Update) -> InboundMessage | None:
    """A private chat's text or button press; anything else (groups, channels, media) is ``None``."""
    if update.message is not None:
        message = update.message
        if message.chat.type != "private" or message.text is None:
            return None
        return InboundMessage("telegram", str(message.chat.id), message.text, str(update.update_id))
    query = update.callback_query
    if query is not None and query.data is not None and query.message is not None:
        if query.message.chat.type != "private":
            return None
        return InboundMessage("telegram", str(query.message.chat.id), query.data,
                              str(update.update_id))
    return None


class TelegramChannel:
    """The ``Channel`` for Telegram. Telegram reports no delivery: an accepted send is final."""

    name = "telegram"

    def __init__(self, bot: Bot, send_timeout: float = 10.0) -> None:
        self.bot = bot
        self._timeout = send_timeout

    def parse_inbound(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        return inbound_from_update(Update.model_validate(dict(payload)))

    def parse_status(self, payload: Mapping[str, Any]) -> DeliveryReport | None:
        return None

    async def send(self, message: OutboundMessage) -> SendReceipt:
        token = _idempotency_key.set(message.idempotency_key)
        try:
            sent = await self._send_once(message)
        except TelegramRetryAfter as exc:
            raise RetryLater("telegram 429", retry_after=float(exc.retry_after)) from exc
        except TelegramForbiddenError as exc:
            raise Undeliverable(f"telegram 403: {exc.message}", unreachable=True) from exc
        except TelegramBadRequest as exc:
            unreachable = "chat not found" in exc.message.lower()
            raise Undeliverable(f"telegram 400: {exc.message}", unreachable=unreachable) from exc
        except (TimeoutError, TelegramServerError, TelegramNetworkError, TelegramUnauthorizedError) as exc:
            raise RetryLater(f"telegram: {exc}") from exc
        finally:
            _idempotency_key.reset(token)
        return SendReceipt(provider_id=f"{sent.chat.id}:{sent.message_id}")

    async def _send_once(self, message: OutboundMessage) -> Message:
        """The Bot API calls that send ``message``, in order; the last one's message.

        With a picture: one ``sendPhoto`` with the text as caption when it fits, else the
        picture alone first. The text: one ``sendMessage`` per part of at most
        :data:`MESSAGE_MAX_CHARS`, the keyboard on the last. Call ``i`` is keyed
        ``<key>:part<i>`` (the first keeps the key), so a retry resends no part to the emulator
        (Telegram itself ignores the key: there, parts sent before a failure go again).
        """
        timeout = int(max(1, self._timeout))
        chat = int(message.address)
        markup = keyboard(message.buttons)
        media = message.media
        photo: BufferedInputFile | str | None = None
        if media is not None:
            photo = BufferedInputFile(media.png, media.filename) if media.png else media.url
        if photo is not None and fits_caption(message.text):
            return await self.bot.send_photo(chat_id=chat, photo=photo, caption=message.text or None,
                                             reply_markup=markup, request_timeout=timeout)
        calls = 0  # the first call goes under the message's own key, as send() set it
        if photo is not None:
            calls += 1
            await self.bot.send_photo(chat_id=chat, photo=photo, request_timeout=timeout)
        *texts, last = split_text(message.text, MESSAGE_MAX_CHARS, utf16_len) or [message.text]
        for text in texts:
            calls += 1
            _idempotency_key.set(part_key(message.idempotency_key, calls))
            await self.bot.send_message(chat_id=chat, text=text, request_timeout=timeout)
        _idempotency_key.set(part_key(message.idempotency_key, calls + 1))
        return await self.bot.send_message(chat_id=chat, text=last, reply_markup=markup,
                                           request_timeout=timeout)
