"""The agent console (/agent): queue, conversation, agent actions, live updates over SSE."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from bot.api.deps import ContainerDep
from bot.dialogue.engine import DialogueUnavailable
from bot.services.agent_desk.desk import AgentDesk
from bot.services.agent_desk.errors import DeskError, NotFound
from bot.staff.deps import SECURITY_HEADERS, CsrfStaffDep, StaffDep, back_to, desk_action, page

router = APIRouter(prefix="/agent", tags=["staff"], include_in_schema=False)
POLL_SECONDS = 0.4
PING_SECONDS = 15.0


def _back(public_id: str, *, msg: str = "", error: str = "") -> RedirectResponse:
    return back_to(f"/agent/c/{public_id}", msg=msg, error=error)


async def _act(public_id: str, done: str, action: Callable[[], Awaitable[object]]) -> Response:
    try:
        return await desk_action(f"/agent/c/{public_id}", done, action)
    except DialogueUnavailable:
        return _back(public_id, error="The dialogue engine (Rasa) is unavailable: try again.")


@router.get("")
async def queue_page(container: ContainerDep, staff: StaffDep, sort: str = "waiting") -> Response:
    items = await container.agent_desk.queue(sort)
    return page("queue.html", staff=staff, items=items, sort=sort,
                now=container.clock.now(), claims=await container.claims.pending())


@router.get("/c/{public_id}")
async def conversation_page(public_id: str, container: ContainerDep, staff: StaffDep,
                            msg: str = "", error: str = "") -> Response:
    try:
        view = await container.agent_desk.view(public_id, container.settings.whatsapp_templates)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return page("conversation.html", staff=staff, c=view, msg=msg, error=error,
                now=container.clock.now())


@router.post("/c/{public_id}/take")
async def take(public_id: str, container: ContainerDep, staff: CsrfStaffDep) -> Response:
    return await _act(public_id, "Taken.", lambda: container.agent_desk.take(staff, public_id))


@router.post("/c/{public_id}/reply")
async def reply(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                text: Annotated[str, Form()] = "") -> Response:
    return await _act(public_id, "Sent.", lambda: container.agent_desk.reply(staff, public_id, text))


@router.post("/c/{public_id}/template")
async def send_template(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                        name: Annotated[str, Form()] = "") -> Response:
    """WhatsApp outside the 24-hour window: send one of the approved templates."""
    return await _act(public_id, "Template sent.", lambda: container.agent_desk.send_template(
        staff, public_id, name, container.settings.whatsapp_templates))


def _decimal(value: str, field: str) -> Decimal:
    try:
        return Decimal(value.strip().replace(",", ".") or "0")
    except InvalidOperation as exc:
        raise DeskError(f"{field}: not a number") from exc


@router.post("/c/{public_id}/offer")
async def offer(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                kind: Annotated[str, Form()] = "installments", count: Annotated[int, Form()] = 1,
                discount_percent: Annotated[str, Form()] = "0",
                down_payment: Annotated[str, Form()] = "") -> Response:
    async def make() -> object:
        return await container.agent_desk.offer(
            staff, public_id, kind=kind, count=count,
            discount_percent=_decimal(discount_percent, "discount"),
            down_payment=_decimal(down_payment, "down payment") if down_payment.strip() else None)
    return await _act(public_id, "Offer sent.", make)


@router.post("/c/{public_id}/agreement")
async def agreement(public_id: str, container: ContainerDep, staff: CsrfStaffDep) -> Response:
    return await _act(public_id, "Agreement recorded.",
                      lambda: container.agent_desk.record_agreement(staff, public_id))


@router.post("/c/{public_id}/promise")
async def promise(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                  when: Annotated[date, Form()]) -> Response:
    return await _act(public_id, "Promise recorded.",
                      lambda: container.agent_desk.record_promise(staff, public_id, when))


@router.post("/c/{public_id}/dispute")
async def dispute(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                  reason: Annotated[str, Form()] = "") -> Response:
    return await _act(public_id, "Dispute marked.",
                      lambda: container.agent_desk.mark_dispute(staff, public_id, reason))


@router.post("/c/{public_id}/note")
async def note(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
               text: Annotated[str, Form()] = "") -> Response:
    return await _act(public_id, "Note added.",
                      lambda: container.agent_desk.add_note(staff, public_id, text))


@router.post("/c/{public_id}/handback")
async def hand_back(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                    note: Annotated[str, Form()] = "") -> Response:
    return await _act(public_id, "Handed back to the bot.",
                      lambda: container.agent_desk.hand_back(staff, public_id, note))


@router.post("/c/{public_id}/close")
async def close(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                note: Annotated[str, Form()] = "") -> Response:
    return await _act(public_id, "Closed.", lambda: container.agent_desk.close(staff, public_id, note))


async def live_events(desk: AgentDesk, is_disconnected: Callable[[], Awaitable[bool]],
                      conversation: str = "", after: int = 0,
                      poll: float = POLL_SECONDS) -> AsyncIterator[str]:
    """Server-Sent Events: ``changed`` when anything happened (the page refreshes its live
    parts), ``message`` with each new message of ``conversation`` (JSON)."""
    version = await desk.live_version()
    idle = 0.0
    yield "retry: 1000\n\n"
    while not await is_disconnected():
        await asyncio.sleep(poll)
        current = await desk.live_version()
        if current == version:
            idle += poll
            if idle >= PING_SECONDS:
                idle = 0.0
                yield ": ping\n\n"
            continue
        version, idle = current, 0.0
        if conversation:
            for item in await desk.messages_after(conversation, after):
                after = item.id
                data = {"id": item.id, "author": item.author, "direction": item.direction,
                        "text": item.text, "at": item.at.isoformat()}
                yield f"event: message\ndata: {json.dumps(data)}\n\n"
        yield f"event: changed\ndata: {version}\n\n"


@router.get("/events")
async def events(request: Request, container: ContainerDep, staff: StaffDep,
                 conversation: str = "", after: int = 0) -> StreamingResponse:
    headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(live_events(container.agent_desk, request.is_disconnected,
                                         conversation, after),
                             media_type="text/event-stream", headers=headers)
