"""The Telegram webhook (``POST /channels/telegram/webhook``): secret-checked, stored before
200, processed in the background."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request, status

from bot.api.deps import ContainerDep

router = APIRouter(tags=["channels"])


@router.post("/channels/telegram/webhook")
async def telegram_webhook(
    request: Request, container: ContainerDep,
    secret: Annotated[str | None, Header(alias="X-Telegram-Bot-Api-Secret-Token")] = None,
) -> dict[str, bool]:
    runtime = container.channels
    expected = container.settings.telegram_webhook_secret
    if runtime.telegram is None or expected is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the Telegram channel is off")
    if not secret or not secrets.compare_digest(secret.encode(), expected.get_secret_value().encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or wrong secret token")
    try:
        update: Any = await request.json()
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "not JSON") from exc
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "not a Telegram update")
    stored = await runtime.inbound.store("telegram", str(update["update_id"]), update)
    if stored is not None:
        runtime.inbound.process_later(stored, "telegram", update)
    return {"ok": True}
