"""Writing off one of a debtor's debts from its audit page (admins, with CSRF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, status
from fastapi.responses import Response

from bot.api.deps import ContainerDep
from bot.rendering.renderer import format_money
from bot.services.portfolio import DebtNotCollectable, UnknownCreditor, UnknownDebt
from bot.staff.debtor_page import NOT_WRITABLE_OFF, back_to_audit, find_debtor
from bot.staff.deps import AdminCsrfDep

router = APIRouter(tags=["results"], include_in_schema=False)


def _form_problems(reason: str, confirmed: str) -> list[str]:
    problems = []
    if not reason.strip():
        problems.append("informe o motivo da baixa / give the reason for the write-off")
    if not confirmed:
        problems.append("marque “confirmo” / tick “confirmo” to confirm")
    return problems


@router.post("/admin/debtors/{external_id}/debts/{debt_external_id:path}/write-off")
async def write_off_debt(external_id: str, debt_external_id: str, container: ContainerDep,
                         staff: AdminCsrfDep, creditor: str | None = None,
                         reason: Annotated[str, Form()] = "",
                         confirmo: Annotated[str, Form()] = "") -> Response:
    """The creditor gives up on one of the debtor's debts (``PortfolioService.write_off``, which
    records the ``debt_written_off`` audit event with the staff member as actor)."""
    debtor = await find_debtor(container, staff, external_id, creditor)
    if isinstance(debtor, Response):
        return debtor
    debt = next((d for d in debtor.debts if d.external_id == debt_external_id), None)
    if debt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no debt {debt_external_id!r} for debtor {external_id!r}")
    refused = f"Dívida {debt_external_id} não foi baixada / not written off"
    if problems := _form_problems(reason, confirmo):
        return back_to_audit(debtor, error=f"{refused}: " + "; ".join(problems))
    try:
        done = await container.portfolio.write_off(debt_external_id, debtor.creditor_id, reason, staff.actor)
    except UnknownDebt as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except DebtNotCollectable as exc:
        return back_to_audit(debtor, error=f"{refused}: {NOT_WRITABLE_OFF.get(exc.status, str(exc))}")
    except (UnknownCreditor, ValueError) as exc:  # a creditor without policies, an empty reason
        return back_to_audit(debtor, error=f"{refused}: {exc}")
    outstanding = format_money(done.outstanding, debt.currency, debtor.locale)
    return back_to_audit(debtor, msg=(
        f"Dívida {debt_external_id} baixada como perda: {outstanding} em aberto, "
        f"{done.contacts_withdrawn} lembrete(s) da régua retirado(s), {done.promises_cancelled} "
        f"promessa(s) cancelada(s). / Debt {debt_external_id} written off."))
