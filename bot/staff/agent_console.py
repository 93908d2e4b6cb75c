"""The agent console (/agent): queue, conversation, agent actions, live updates over SSE."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from bot.api.deps import ContainerDep
from bot.dialogue.engine import DialogueUnavailable
from bot.services.agent_desk.desk import AgentDesk
from bot.services.agent_desk.errors import DeskError, NotFound
from bot.staff.day_input import NotADay, parse_day
from bot.staff.deps import (
    SECURITY_HEADERS,
    CsrfStaffDep,
    StaffDep,
    back_to,
    default_zone,
    desk_action,
    page,
)
from bot.staff.i18n_markers import N_

router = APIRouter(prefix="/agent", tags=["staff"], include_in_schema=False)
POLL_SECONDS = 0.4
PING_SECONDS = 15.0


def _back(public_id: str, *, msg: str = "", error: str = "") -> RedirectResponse:
    return back_to(f"/agent/c/{public_id}", msg=msg, error=error)


async def _act(public_id: str, done: str, action: Callable[[], Awaitable[object]]) -> Response:
    try:
        return await desk_action(f"/agent/c/{public_id}", done, action)
    except DialogueUnavailable:
        return _back(public_id, error=N_("The dialogue engine (Rasa) is unavailable: try again."))


@router.get("")
async def queue_page(request: Request, container: ContainerDep, staff: StaffDep,
                     sort: str = "waiting", q: str = "", mine: str = "") -> Response:
    """The queue; ``q`` searches (company, CNPJ, invoice), ``mine=1`` keeps the agent's own."""
    sort = "amount" if sort == "amount" else "waiting"
    items = await container.agent_desk.queue(sort, q, staff.name if mine else None)
    return page(request, "queue.html", staff=staff, items=items, sort=sort, q=q, mine=bool(mine),
                now=container.clock.now(), claims=await container.claims.pending())


OFFER_FIELDS = ("kind", "count", "discount_percent", "down_payment")


@router.get("/c/{public_id}")
async def conversation_page(request: Request, public_id: str, container: ContainerDep,
                            staff: StaffDep, msg: str = "", error: str = "") -> Response:
    try:
        view = await container.agent_desk.view(public_id, container.settings.whatsapp_templates)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, N_("No such conversation.")) from exc
    # A refused offer comes back with the agent's values (the query of the redirect).
    offer_back = {name: request.query_params[name][:32] for name in OFFER_FIELDS
                  if name in request.query_params}
    return page(request, "conversation.html", staff=staff, c=view, msg=msg, error=error,
                offer_back=offer_back, now=container.clock.now(),
                zone=default_zone(request, view.creditor_id))


@router.post("/c/{public_id}/take")
async def take(public_id: str, container: ContainerDep, staff: CsrfStaffDep) -> Response:
    return await _act(public_id, N_("Taken."), lambda: container.agent_desk.take(staff, public_id))


@router.post("/c/{public_id}/reply")
async def reply(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                text: Annotated[str, Form()] = "", take: Annotated[str, Form()] = "") -> Response:
    """Send a reply; with ``take`` (the form of a conversation nobody holds) take it first.
    The page it goes back to focuses the reply box (``autofocus``)."""
    return await _act(public_id, N_("Sent."), lambda: container.agent_desk.reply(
        staff, public_id, text, take=bool(take)))


@router.post("/c/{public_id}/template")
async def send_template(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                        name: Annotated[str, Form()] = "") -> Response:
    """WhatsApp outside the 24-hour window: send one of the approved templates."""
    return await _act(public_id, N_("Template sent."), lambda: container.agent_desk.send_template(
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
    response = await _act(public_id, N_("Offer sent."), make)
    if "error=" in response.headers.get("location", ""):  # refused: the form keeps its values
        values = {"kind": kind, "count": str(count), "discount_percent": discount_percent,
                  "down_payment": down_payment}
        response.headers["location"] += "&" + urlencode(values) + "#offer-form"
    return response


@router.post("/c/{public_id}/agreement")
async def agreement(public_id: str, container: ContainerDep, staff: CsrfStaffDep) -> Response:
    return await _act(public_id, N_("Agreement recorded."),
                      lambda: container.agent_desk.record_agreement(staff, public_id))


@router.post("/c/{public_id}/promise")
async def promise(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                  when: Annotated[str, Form()] = "") -> Response:
    async def record() -> None:
        try:
            day = parse_day(when)
        except NotADay as exc:
            raise DeskError(N_("The promise's date must be dd/mm/yyyy.")) from exc
        await container.agent_desk.record_promise(staff, public_id, day)
    return await _act(public_id, N_("Promise recorded."), record)


@router.post("/c/{public_id}/dispute")
async def dispute(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                  reason: Annotated[str, Form()] = "") -> Response:
    return await _act(public_id, N_("Dispute marked."),
                      lambda: container.agent_desk.mark_dispute(staff, public_id, reason))


@router.post("/c/{public_id}/note")
async def note(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
               text: Annotated[str, Form()] = "") -> Response:
    return await _act(public_id, N_("Note added."),
                      lambda: container.agent_desk.add_note(staff, public_id, text))


@router.post("/c/{public_id}/handback")
async def hand_back(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                    note: Annotated[str, Form()] = "") -> Response:
    return await _act(public_id, N_("Handed back to the bot."),
                      lambda: container.agent_desk.hand_back(staff, public_id, note))


@router.post("/c/{public_id}/close")
async def close(public_id: str, container: ContainerDep, staff: CsrfStaffDep,
                note: Annotated[str, Form()] = "", confirm: Annotated[str, Form()] = "") -> Response:
    """Closing asks for a confirmation (the form's "I confirm closing" box)."""
    if confirm != "yes":
        return _back(public_id, error=N_("Tick “I confirm closing” to close the conversation."))
    return await _act(public_id, N_("Closed."), lambda: container.agent_desk.close(staff, public_id, note))


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
