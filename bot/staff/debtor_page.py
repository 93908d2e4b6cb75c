"""The admin's page of one debtor: finding it, its debts as shown, and links back to it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from fastapi import HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from bot.bootstrap import Container
from bot.services.audit_trail import AuditTrail
from bot.services.staff_accounts import StaffIdentity
from bot.staff.deps import page
from bot.staff.i18n import StaffLocale, locale_of
from bot.staff.i18n_markers import N_
from bot.storage import models as db
from bot.storage.repositories.errors import AmbiguousDebtor

# Why a debt that is not collectable cannot be written off (translated on the page).
NOT_WRITABLE_OFF: dict[str, str] = {
    db.DebtStatus.IN_AGREEMENT: N_("in an active agreement: it can be written off once the "
                                   "agreement breaks"),
    db.DebtStatus.PAID: N_("paid: nothing to write off"),
    db.DebtStatus.WRITTEN_OFF: N_("written off already"),
}


@dataclass(frozen=True)
class DebtRow:
    """One debt as the audit page shows it (plain, formatted values)."""

    external_id: str
    description: str
    due: str
    amount: str
    outstanding: str
    status: str
    not_writable_off: str  # why it cannot be written off; "" when it can


def _blocked(debt: db.Debt) -> str:
    """Why ``PortfolioService.write_off`` would refuse the debt ("" when it would not)."""
    if debt.status != db.DebtStatus.WRITTEN_OFF and debt.paid_amount >= debt.amount:
        return NOT_WRITABLE_OFF[db.DebtStatus.PAID]
    return NOT_WRITABLE_OFF.get(debt.status, "")


def debt_rows(debtor: db.Debtor, words: StaffLocale) -> list[DebtRow]:
    return [DebtRow(d.external_id, d.description, words.day(d.due_date),
                    words.money(d.amount, d.currency), words.money(d.unpaid_amount, d.currency),
                    words.label(d.status, "status.debt"),
                    words.gettext(blocked) if (blocked := _blocked(d)) else "")
            for d in sorted(debtor.debts, key=lambda d: (d.due_date, d.id))]


def _ambiguous(request: Request, staff: StaffIdentity, exc: AmbiguousDebtor) -> Response:
    detail = locale_of(request).gettext(
        "Several creditors (%(creditors)s) have the debtor %(debtor)s: add ?creditor=ID to the "
        "address.") % {"creditors": ", ".join(exc.creditor_ids), "debtor": repr(exc.external_id)}
    return page(request, "error.html", status.HTTP_409_CONFLICT, code=409, staff=staff, detail=detail)


def _audit_url(external_id: str, creditor: str, **flash: str) -> str:
    query = urlencode({"creditor": creditor, **{k: v for k, v in flash.items() if v}})
    return f"/admin/debtors/{quote(external_id)}/audit?{query}"


def back_to_audit(debtor: db.Debtor, *, msg: str = "", error: str = "") -> RedirectResponse:
    return RedirectResponse(_audit_url(debtor.external_id, debtor.creditor_id, msg=msg, error=error),
                            status.HTTP_303_SEE_OTHER)


async def find_debtor(request: Request, container: Container, staff: StaffIdentity, external_id: str,
                      creditor: str | None) -> db.Debtor | Response:
    """The debtor of an audit page (with its debts), or the 409 page naming the creditors when
    the id is ambiguous without ``?creditor=``; 404 when there is none."""
    try:
        debtor = await AuditTrail(container.uow).debtor(external_id, creditor)
    except AmbiguousDebtor as exc:
        return _ambiguous(request, staff, exc)
    if debtor is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no debtor {external_id!r}")
    return debtor
