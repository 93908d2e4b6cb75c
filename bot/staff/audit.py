"""The audit view of a debtor (``/admin/debtors/{id}/audit``), as a page or CSV."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse, Response

from bot.api.deps import ContainerDep
from bot.services.audit_trail import AuditTrail
from bot.services.results.csv_export import to_csv
from bot.staff.debtor_page import debt_rows, find_debtor
from bot.staff.deps import AdminStaffDep, default_zone, page
from bot.staff.downloads import csv_download
from bot.staff.i18n import locale_of

router = APIRouter(tags=["results"], include_in_schema=False)


@router.get("/admin/debtors/{external_id}/audit")
async def audit_view(request: Request, external_id: str, container: ContainerDep, staff: AdminStaffDep,
                     creditor: str | None = None, format: str = "html", msg: str = "",
                     error: str = "") -> Response:
    debtor = await find_debtor(request, container, staff, external_id, creditor)
    if isinstance(debtor, Response):
        return debtor
    entries = await AuditTrail(container.uow).timeline(debtor.id)
    rows = [e.as_row() for e in entries]
    if format == "csv":
        return csv_download(to_csv(rows), f"audit-{external_id}.csv")
    return page(request, "audit.html", staff=staff, debtor=debtor, entries=entries,
                debts=debt_rows(debtor, locale_of(request)), msg=msg, error=error,
                zone=default_zone(request, debtor.creditor_id))


@router.get("/admin/audit")
async def audit_search(request: Request, container: ContainerDep, staff: AdminStaffDep,
                       debtor: str = "", creditor: str = "") -> Response:
    """The header's "Audit": type a debtor's id, land on its audit trail."""
    if debtor.strip():
        query = f"?creditor={quote(creditor)}" if creditor else ""
        return RedirectResponse(f"/admin/debtors/{quote(debtor.strip(), safe='')}/audit{query}",
                                status.HTTP_303_SEE_OTHER)
    return page(request, "audit_search.html", staff=staff, debtor=debtor, creditor=creditor,
                creditors=sorted(container.policies))
