"""The custom-action webhook Rasa calls (rasa-sdk's executor, served inside the app)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.api.deps import ContainerDep
from bot.api.request_guard import parsed_json

router = APIRouter(tags=["rasa"], include_in_schema=False)


@router.post("/actions/webhook")
async def run_action(request: Request, container: ContainerDep,
                     token: str = "") -> JSONResponse:
    expected = container.settings.action_token
    if expected is not None and not secrets.compare_digest(
        token.encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid action token")
    # The tracker Rasa sends grows with the conversation: parsed once, by the request guard.
    action_call = parsed_json(request)
    if action_call is None:
        try:
            action_call = await request.json()
        except ValueError:
            action_call = None
    if not isinstance(action_call, dict):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, "the action call is not a JSON object")
    try:
        result = await container.action_executor.run(action_call)
    except ActionNotFoundException as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, 404)
    except ActionExecutionRejection as exc:
        return JSONResponse({"error": exc.message, "action_name": exc.action_name}, 400)
    if result is None:
        return JSONResponse({"events": [], "responses": []})
    return JSONResponse(result.model_dump(by_alias=True))
