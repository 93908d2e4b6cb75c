"""``/metrics`` in the Prometheus text format, behind the metrics (or admin) bearer token."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.api.deps import ContainerDep
from bot.services.metrics import CONTENT_TYPE

router = APIRouter(tags=["payments"])
_bearer = HTTPBearer(auto_error=False)


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def require_metrics_token(container: ContainerDep, credentials: BearerDep) -> None:
    """``Authorization: Bearer`` with ``ACORDO_METRICS_TOKEN`` or ``ACORDO_ADMIN_TOKEN``; each set
    token is compared in constant time (all of them, whichever matches)."""
    given = (credentials.credentials if credentials else "").encode()
    settings = container.settings
    accepted = False
    for token in (settings.metrics_token, settings.admin_token):
        expected = token.get_secret_value().encode() if token is not None else b""
        accepted |= bool(expected) and secrets.compare_digest(given, expected)
    if not accepted:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid bearer token",
                            headers={"WWW-Authenticate": "Bearer"})


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_metrics_token)])
async def metrics(container: ContainerDep) -> Response:
    """Prometheus text format; the scraper sends the metrics (or admin) bearer token."""
    return Response(await container.metrics.render(), media_type=CONTENT_TYPE)
