"""A Telegram Bot API emulator: ``POST /bot<token>/<method>`` answering like Telegram.

Answers ``{"ok": true, "result": ...}``; a 429 is ``{"ok": false, "error_code": 429,
"description": "Too Many Requests: retry after N", "parameters": {"retry_after": N}}``;
a blocked chat gets 403 ``Forbidden: bot was blocked by the user``. Sends carrying an
``Idempotency-Key`` already answered are not delivered twice. Updates queued with
:meth:`TelegramEmulator.queue_update` are served by ``getUpdates``.

``sendPhoto`` takes what the Bot API takes: a multipart upload (aiogram names the file part
at random and sends ``photo=attach://<part>``; a part named ``photo`` works too) or a URL /
file id, with ``caption`` (at most 1024 characters, else 400) and ``reply_markup``. The
delivery records the uploaded bytes in ``media``. ``sendMessage`` text over 4096 characters
(UTF-16 code units, as Telegram counts) gets 400 ``Bad Request: message is too long``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from bot.clock import Clock, SystemClock
from bot.devtools.emulators.observed import Delivery, Faults, Observed, Request

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Acordo", "username": "acordo_test_bot"}
SENDS = ("sendMessage", "sendPhoto")
CAPTION_MAX = 1024
TEXT_MAX = 4096


class TelegramEmulator(Observed):
    def __init__(self, token: str = "42:TEST", faults: Faults | None = None, seed: int = 0,
                 clock: Clock | None = None) -> None:
        super().__init__(faults, seed)
        self.token = token
        self._clock = clock or SystemClock()  # the "date" of the messages it reports
        self.blocked: set[str] = set()
        self.left_chats: list[str] = []
        self.webhook: dict[str, Any] = {}
        self.updates: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._message_id = 0
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/_emulator/report", self._report)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        return app

    def add_file(self, content: bytes, name: str = "receipt.pdf") -> str:
        """Keep a file a user sent; its ``file_id`` (for ``photo`` / ``document`` in updates),
        resolved by ``getFile`` and downloaded from ``/file/bot<token>/<file_path>``."""
        file_id = f"F{len(self.files) + 1}"
        self.files[file_id] = (f"documents/{file_id}-{name}", content)
        return file_id

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        for path, content in self.files.values():
            if path == request.match_info["path"]:
                return web.Response(body=content, content_type="application/octet-stream")
        return _error(404, "Not Found")

    async def _report(self, request: web.Request) -> web.Response:
        rate = float(request.query.get("global", "30"))
        chat = float(request.query.get("chat", "1"))
        return web.json_response(self.report(rate, chat))

    def queue_update(self, update: dict[str, Any]) -> None:
        self.updates.append(update)

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        at = self.now()
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append((method, params))
        if method in SENDS:
            return await self._send(method, at, params, request.headers.get("Idempotency-Key"))
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return _ok(handler(params))

    async def _send(self, method: str, at: float, params: dict[str, Any], key: str | None
                    ) -> web.Response:
        """``sendMessage`` or ``sendPhoto``: one message to a chat, faults and keys included."""
        chat = str(params.get("chat_id"))
        if key and key in self.by_key:
            self.requests.append(Request(at, method, chat, key, "duplicate"))
            return _ok(self.by_key[key])
        if chat in self.blocked:
            self.requests.append(Request(at, method, chat, key, "403"))
            return _error(403, "Forbidden: bot was blocked by the user")
        photo = _photo(params) if method == "sendPhoto" else None
        invalid = _invalid_photo(params, photo) if method == "sendPhoto" else _invalid_text(params)
        if invalid:
            self.requests.append(Request(at, method, chat, key, "400"))
            return _error(400, f"Bad Request: {invalid}")
        fault = self.draw_fault()
        if fault == "429":
            retry = self.random.randint(*self.faults.retry_after)
            self.requests.append(Request(at, method, chat, key, "429"))
            return web.json_response({"ok": False, "error_code": 429,
                                      "description": f"Too Many Requests: retry after {retry}",
                                      "parameters": {"retry_after": retry}}, status=429)
        if fault == "5xx":
            self.requests.append(Request(at, method, chat, key, "5xx"))
            return _error(502, "Bad Gateway")
        self._message_id += 1
        result: dict[str, Any] = {"message_id": self._message_id, "date": int(self._clock.now().timestamp()),
                                  "from": BOT_USER, "chat": {"id": int(chat), "type": "private"}}
        if photo is None:
            text = str(params.get("text", ""))
            result["text"] = text
        else:
            text = str(params.get("caption", ""))
            result["photo"] = [{"file_id": f"photo-{self._message_id}", "width": 320, "height": 320,
                                "file_unique_id": f"p{self._message_id}",
                                "file_size": len(photo) if isinstance(photo, bytes) else 0}]
            if text:
                result["caption"] = text
        if params.get("reply_markup"):
            result["reply_markup"] = params["reply_markup"]
        self.deliveries.append(Delivery(at, chat, text, key, f"{chat}:{self._message_id}", params,
                                        (photo,) if photo is not None else ()))
        if key:
            self.by_key[key] = result
        self.requests.append(Request(at, method, chat, key, fault or "ok"))
        if fault == "timeout":
            await asyncio.sleep(self.faults.timeout_delay)
        return _ok(result)

    def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            return {"file_id": file_id, "file_unique_id": file_id}  # no file_path: gone
        path, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(content),
                "file_path": path}

    def _m_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = params
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": 0}

    def _m_leaveChat(self, params: dict[str, Any]) -> Any:
        self.left_chats.append(str(params.get("chat_id")))
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        return True

    def _m_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return list(self.updates)


async def _params(request: web.Request) -> dict[str, Any]:
    """JSON, url-encoded or multipart parameters; uploaded files become their bytes."""
    if request.content_type == "application/json":
        data = await request.json()
        return dict(data) if isinstance(data, dict) else {}
    form = await request.post()
    params: dict[str, Any] = {}
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[key] = value.file.read()
        elif key == "reply_markup":
            params[key] = json.loads(value)
        else:
            params[key] = value if isinstance(value, str) else value.decode()
    return params


def _photo(params: dict[str, Any]) -> bytes | str | None:
    """The photo of a ``sendPhoto``: uploaded bytes (``attach://<part>`` or a part named
    ``photo``), or the URL / file id given as text."""
    photo = params.get("photo")
    if isinstance(photo, str) and photo.startswith("attach://"):
        attached = params.get(photo.removeprefix("attach://"))
        return attached if isinstance(attached, bytes) else None
    return photo if isinstance(photo, bytes | str) and photo else None


def _invalid_photo(params: dict[str, Any], photo: bytes | str | None) -> str | None:
    if photo is None:
        return "there is no photo in the request"
    if _utf16_len(str(params.get("caption", ""))) > CAPTION_MAX:
        return "message caption is too long"
    return None


def _invalid_text(params: dict[str, Any]) -> str | None:
    if _utf16_len(str(params.get("text", ""))) > TEXT_MAX:
        return "message is too long"
    return None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)
