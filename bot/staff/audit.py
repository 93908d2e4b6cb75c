"""The audit view of a debtor (``/admin/debtors/{id}/audit``), as a page or CSV."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from bot.api.deps import ContainerDep
from bot.services.audit_trail import AuditTrail
from bot.services.results.csv_export import to_csv
from bot.staff.debtor_page import debt_rows, find_debtor
from bot.staff.deps import AdminStaffDep, page
from bot.staff.downloads import csv_download

router = APIRouter(tags=["results"], include_in_schema=False)


@router.get("/admin/debtors/{external_id}/audit")
async def audit_view(external_id: str, container: ContainerDep, staff: AdminStaffDep,
                     creditor: str | None = None, format: str = "html", msg: str = "",
                     error: str = "") -> Response:
    debtor = await find_debtor(container, staff, external_id, creditor)
    if isinstance(debtor, Response):
        return debtor
    entries = await AuditTrail(container.uow).timeline(debtor.id)
    rows = [e.as_row() for e in entries]
    if format == "csv":
        return csv_download(to_csv(rows), f"audit-{external_id}.csv")
    return page("audit.html", staff=staff, debtor=debtor, entries=entries, debts=debt_rows(debtor),
                msg=msg, error=error)
