"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from bot import schemas
from bot.api.deps import ContainerDep

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=schemas.Health)
async def healthz() -> schemas.Health:
    return schemas.Health(status="ok")


@router.get("/readyz", response_model=schemas.Health,
            responses={503: {"model": schemas.Health}})
async def readyz(container: ContainerDep) -> JSONResponse:
    checks = {"database": False, "rasa": False}
    try:
        async with container.sessions() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # noqa: BLE001 - any failure means not ready
        checks["database"] = False
    checks["rasa"] = await container.dialogue.is_ready()
    ready = all(checks.values())
    body = schemas.Health(status="ok" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
