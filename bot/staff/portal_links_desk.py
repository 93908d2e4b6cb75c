"""The agent console's "Send portal link" button (``bot/web/staff/_portal_link_button.html``).

The agent who holds the conversation issues a new portal link (``agent:<name>``) that goes
to the debtor through the one outgoing path; CSRF and roles as every console action.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from bot.api.deps import ContainerDep
from bot.staff.deps import CsrfStaffDep, desk_action
from bot.staff.i18n_markers import N_

router = APIRouter(prefix="/agent", tags=["staff"], include_in_schema=False)


@router.post("/c/{public_id}/portal-link")
async def send_portal_link(public_id: str, container: ContainerDep, staff: CsrfStaffDep) -> Response:
    """Send the debtor a new link to their portal page."""
    return await desk_action(f"/agent/c/{public_id}", N_("Portal link sent."),
                             lambda: container.agent_desk.send_portal_link(
                                 staff, public_id, container.portal_links))
