"""Payment claims at the agent console (/agent/claims): check, confirm or reject (CSRF)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from bot.api.deps import ContainerDep
from bot.services.agent_desk.errors import DeskError, NotFound
from bot.staff.deps import SECURITY_HEADERS, CsrfStaffDep, StaffDep, back_to, desk_action, page
from bot.staff.i18n_markers import N_

router = APIRouter(prefix="/agent/claims", tags=["staff"], include_in_schema=False)


def _back(claim_id: int, *, msg: str = "", error: str = "") -> RedirectResponse:
    return back_to(f"/agent/claims/{claim_id}", msg=msg, error=error)


async def _act(claim_id: int, done: str, action: Callable[[], Awaitable[object]]) -> Response:
    return await desk_action(f"/agent/claims/{claim_id}", done, action)


def _amount(value: str) -> Decimal | None:
    """The agent's amount ("3.100,00", "3100.00"); blank: the claim's own."""
    value = value.strip().replace("R$", "").strip()
    if not value:
        return None
    if "," in value:
        value = value.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise DeskError(f"amount: {value!r} is not a number") from exc
    if not amount.is_finite() or amount <= 0:
        raise DeskError("amount: must be more than zero")
    return amount


@router.get("")
async def claims_page(request: Request, container: ContainerDep, staff: StaffDep) -> Response:
    return page(request, "claims.html", staff=staff, claims=await container.claims.pending())


@router.get("/{claim_id}")
async def claim_page(request: Request, claim_id: int, container: ContainerDep, staff: StaffDep,
                     msg: str = "", error: str = "") -> Response:
    try:
        view = await container.claims.view(claim_id)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, N_("No such payment claim.")) from exc
    return page(request, "claim.html", staff=staff, c=view, msg=msg, error=error)


@router.get("/{claim_id}/attachments/{attachment_id}")
async def attachment(claim_id: int, attachment_id: int, container: ContainerDep,
                     staff: StaffDep) -> Response:
    try:
        content_type, content = await container.claims.attachment(claim_id, attachment_id)
    except NotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    return Response(content, media_type=content_type,
                    headers={**SECURITY_HEADERS, "Content-Disposition": "inline"})


@router.post("/{claim_id}/confirm")
async def confirm(claim_id: int, container: ContainerDep, staff: CsrfStaffDep,
                  amount: Annotated[str, Form()] = "", debt: Annotated[str, Form()] = "") -> Response:
    async def run() -> object:
        return await container.claims.confirm(staff, claim_id, amount=_amount(amount),
                                              debt=debt.strip() or None)
    return await _act(claim_id, N_("Payment confirmed and recorded."), run)


@router.post("/{claim_id}/reject")
async def reject(claim_id: int, container: ContainerDep, staff: CsrfStaffDep,
                 reason: Annotated[str, Form()] = "") -> Response:
    return await _act(claim_id, N_("Claim rejected; the debtor was told."),
                      lambda: container.claims.reject(staff, claim_id, reason))
