"""Readiness: the database answers and the dialogue engine has a model (``/readyz``)."""

from __future__ import annotations

from sqlalchemy import text

from bot.dialogue.engine import DialogueEngine
from bot.storage.uow import UnitOfWorkFactory


async def readiness(uow: UnitOfWorkFactory, dialogue: DialogueEngine) -> dict[str, bool]:
    """``{"database": …, "rasa": …}``: each part that must answer before traffic is sent."""
    checks = {"database": False, "rasa": False}
    try:
        async with uow() as work:
            await work.session.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = False
    checks["rasa"] = await dialogue.is_ready()
    return checks
