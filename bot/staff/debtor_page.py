"""The admin's page of one debtor: finding it, its debts as shown, and links back to it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from fastapi import HTTPException, status
from fastapi.responses import RedirectResponse, Response

from bot.bootstrap import Container
from bot.rendering.renderer import format_money
from bot.services.audit_trail import AuditTrail
from bot.services.staff_accounts import StaffIdentity
from bot.staff.deps import page
from bot.storage import models as db
from bot.storage.repositories.errors import AmbiguousDebtor

# Debt statuses on the audit page, and why a debt that is not collectable cannot be written off
# (pt-BR first: the staff work in Portuguese; English after the slash).
DEBT_STATUS: dict[str, str] = {
    db.DebtStatus.OPEN: "aberta / open", db.DebtStatus.DISPUTED: "contestada / disputed",
    db.DebtStatus.IN_AGREEMENT: "em acordo / in agreement", db.DebtStatus.PAID: "paga / paid",
    db.DebtStatus.WRITTEN_OFF: "baixada como perda / written off",
}
NOT_WRITABLE_OFF: dict[str, str] = {
    db.DebtStatus.IN_AGREEMENT: "em acordo ativo: pode ser baixada se o acordo for quebrado / "
                                "in an active agreement: it can be written off once it breaks",
    db.DebtStatus.PAID: "paga: nada a baixar / paid: nothing to write off",
    db.DebtStatus.WRITTEN_OFF: "já baixada como perda / written off already",
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


def debt_rows(debtor: db.Debtor) -> list[DebtRow]:
    return [DebtRow(d.external_id, d.description, d.due_date.strftime("%d/%m/%Y"),
                    format_money(d.amount, d.currency, debtor.locale),
                    format_money(d.unpaid_amount, d.currency, debtor.locale),
                    DEBT_STATUS.get(d.status, d.status), _blocked(d))
            for d in sorted(debtor.debts, key=lambda d: (d.due_date, d.id))]


def _ambiguous(staff: StaffIdentity, exc: AmbiguousDebtor) -> Response:
    creditors = ", ".join(exc.creditor_ids)
    return page("error.html", status.HTTP_409_CONFLICT, code=409, staff=staff, detail=(
        f"O devedor {exc.external_id!r} existe em vários credores ({creditors}): acrescente "
        f"?creditor=ID ao endereço. / Several creditors have this debtor: add ?creditor=ID."))


def _audit_url(external_id: str, creditor: str, **flash: str) -> str:
    query = urlencode({"creditor": creditor, **{k: v for k, v in flash.items() if v}})
    return f"/admin/debtors/{quote(external_id)}/audit?{query}"


def back_to_audit(debtor: db.Debtor, *, msg: str = "", error: str = "") -> RedirectResponse:
    return RedirectResponse(_audit_url(debtor.external_id, debtor.creditor_id, msg=msg, error=error),
                            status.HTTP_303_SEE_OTHER)


async def find_debtor(container: Container, staff: StaffIdentity, external_id: str, creditor: str | None
                  ) -> db.Debtor | Response:
    """The debtor of an audit page (with its debts), or the 409 page naming the creditors when
    the id is ambiguous without ``?creditor=``; 404 when there is none."""
    try:
        debtor = await AuditTrail(container.uow).debtor(external_id, creditor)
    except AmbiguousDebtor as exc:
        return _ambiguous(staff, exc)
    if debtor is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no debtor {external_id!r}")
    return debtor
