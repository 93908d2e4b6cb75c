"""Hostile request bodies stop here, before any route: a 4xx that names the problem and
never echoes the input.

- :class:`RequestGuard` (ASGI middleware) caps the body size (413; the chat and the channel
  webhooks much lower than the admin API's portfolio uploads) and, for JSON bodies, refuses
  what ``json.loads`` would let through but no JSON encoder can send back: ``NaN``,
  ``Infinity``, numbers that overflow to infinity (``1e309``), lone UTF-16 surrogates
  (``"\\ud800"``), bytes that are not UTF-8, and nesting deep enough to exhaust the parser;
  a NUL in the URL (path or query) is refused too.
  Those answered 500 (the validation-error handler could not encode the input).
- :func:`validation_failed` replaces FastAPI's handler for invalid requests: each error is
  ``{"loc", "msg", "type"}`` with no ``input`` or ``ctx``, every string made printable and
  short, so neither the client's values nor undecodable text come back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 16 * 1024 * 1024  # the admin API (portfolio uploads of thousands of debtors)
MAX_CHANNEL_BODY_BYTES = 64 * 1024  # chat messages and channel webhooks
_CHANNEL_PREFIXES = ("/channels/",)
_LOC_CHARS = 64
_MSG_CHARS = 300
_UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\ud7ff\ue000-\ufffd]")


class BodyRefused(ValueError):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def limit_for(path: str) -> int:
    return MAX_CHANNEL_BODY_BYTES if path.startswith(_CHANNEL_PREFIXES) else MAX_BODY_BYTES


def _no_constant(name: str) -> Any:
    raise BodyRefused(422, "json_invalid", f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BodyRefused(422, "json_invalid", "a number is too large")
    return value


# Only these can make a parsed number overflow to infinity (beyond 1.8e308): an exponent of
# three or more digits, or 200 digits in a row (below that, even an exponent of 99 stays
# under 1e299). Without them every float json.loads makes is finite.
_HUGE_NUMBER = re.compile(r"[eE][+-]?[0-9]{3}|[0-9]{200}")
# Only a \\uD800-\\uDFFF escape can put a UTF-16 surrogate in a parsed string (strict UTF-8
# decoding refuses encoded ones); a pair is fine, a lone one cannot be encoded back.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
JSON_STATE_KEY = "acordo.json_body"


def check_json(raw: bytes) -> tuple[bool, Any]:
    """``(True, document)``, or ``(False, None)`` for a plain syntax error (FastAPI answers
    those itself); raise :class:`BodyRefused` unless ``raw`` is strict JSON any encoder could
    send back.

    The common body is parsed once at C speed: the per-number check and the re-encoding
    run only when a huge number or a surrogate escape appears in the text at all.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused(422, "json_invalid", "the body is not UTF-8") from exc
    huge = _HUGE_NUMBER.search(text) is not None
    try:
        parsed = json.loads(text, parse_constant=_no_constant,
                            parse_float=_finite_float if huge else None)
    except RecursionError as exc:
        raise BodyRefused(422, "json_invalid", "the JSON is nested too deeply") from exc
    except ValueError as exc:
        if isinstance(exc, BodyRefused):
            raise
        return False, None  # plain syntax errors: FastAPI's own json_invalid answer (it names the position)
    if _SURROGATE_ESCAPE.search(text) is None:
        return True, parsed
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BodyRefused(422, "string_unicode", "a string holds a lone UTF-16 surrogate") from exc
    except RecursionError as exc:
        raise BodyRefused(422, "json_invalid", "the JSON is nested too deeply") from exc
    return True, parsed


def parsed_json(request: Request) -> Any:
    """The body :class:`RequestGuard` already parsed, or ``None`` when it did not parse one
    (the route then reads the body itself)."""
    state: dict[str, Any] = request.scope.get("state") or {}
    return state.get(JSON_STATE_KEY)


class RequestGuard:
    """ASGI middleware: body size limits (413) and strict JSON (422) for every route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            # No database keeps a NUL in text (PostgreSQL refuses it): never let one reach a query.
            await _refuse(send, BodyRefused(422, "string_nul", "the URL holds a NUL character"))
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode("latin-1")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, BodyRefused(413, "body_too_large", f"the body is over {limit} bytes"))
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, BodyRefused(413, "body_too_large", f"the body is over {limit} bytes"))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if body and "json" in content_type:
            try:
                parsed_ok, parsed = check_json(body)
            except BodyRefused as refused:
                await _refuse(send, refused)
                return
            if parsed_ok:
                # Parsed once here; a route that needs the whole document (the action webhook's
                # tracker) reads it with parsed_json() instead of parsing it again.
                scope.setdefault("state", {})[JSON_STATE_KEY] = parsed
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # the disconnect, when it comes

    return replay


async def _refuse(send: Send, refused: BodyRefused) -> None:
    response = JSONResponse({"detail": [{"loc": ["body"], "msg": refused.message, "type": refused.kind}]},
                            status_code=refused.status)
    await response({"type": "http"}, _never_receive, send)


async def _never_receive() -> Message:  # JSONResponse does not read the request
    return {"type": "http.disconnect"}


def _printable(value: object, limit: int) -> str:
    text = _UNPRINTABLE.sub("?", str(value))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _loc(parts: Sequence[object]) -> list[str | int]:
    return [p if isinstance(p, int) and not isinstance(p, bool) else _printable(p, _LOC_CHARS) for p in parts]


async def validation_failed(_request: Request, exc: Exception) -> JSONResponse:
    """422 with ``{"loc", "msg", "type"}`` per error: no input, nothing unencodable."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": _loc(error.get("loc", ())), "msg": _printable(error.get("msg", ""), _MSG_CHARS),
               "type": _printable(error.get("type", ""), _LOC_CHARS)} for error in errors]
    return JSONResponse({"detail": detail}, status_code=422)
