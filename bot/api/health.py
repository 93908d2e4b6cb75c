"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from bot import schemas
from bot.api.deps import ContainerDep
from bot.services.readiness import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=schemas.Health)
async def healthz() -> schemas.Health:
    return schemas.Health(status="ok")


@router.get("/readyz", response_model=schemas.Health,
            responses={503: {"model": schemas.Health}})
async def readyz(container: ContainerDep) -> JSONResponse:
    checks = await readiness(container.uow, container.dialogue)
    ready = all(checks.values())
    body = schemas.Health(status="ok" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
