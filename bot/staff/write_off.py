"""Writing off one of a debtor's debts from its audit page (admins, with CSRF)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import Response

from bot.api.deps import ContainerDep
from bot.services.portfolio import DebtNotCollectable, UnknownCreditor, UnknownDebt
from bot.staff.debtor_page import NOT_WRITABLE_OFF, back_to_audit, find_debtor
from bot.staff.deps import AdminCsrfDep
from bot.staff.i18n import locale_of
from bot.staff.i18n_markers import N_

router = APIRouter(tags=["results"], include_in_schema=False)


def _form_problems(reason: str, confirmed: str) -> list[str]:
    problems = []
    if not reason.strip():
        problems.append(N_("give the reason for the write-off"))
    if not confirmed:
        problems.append(N_("tick “I confirm” to confirm"))
    return problems


@router.post("/admin/debtors/{external_id}/debts/{debt_external_id:path}/write-off")
async def write_off_debt(request: Request, external_id: str, debt_external_id: str, container: ContainerDep,
                         staff: AdminCsrfDep, creditor: str | None = None,
                         reason: Annotated[str, Form()] = "",
                         confirmo: Annotated[str, Form()] = "") -> Response:
    """The creditor gives up on one of the debtor's debts (``PortfolioService.write_off``, which
    records the ``debt_written_off`` audit event with the staff member as actor)."""
    debtor = await find_debtor(request, container, staff, external_id, creditor)
    if isinstance(debtor, Response):
        return debtor
    debt = next((d for d in debtor.debts if d.external_id == debt_external_id), None)
    if debt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no debt {debt_external_id!r} for debtor {external_id!r}")
    words = locale_of(request)
    refused = words.gettext("Debt %(debt)s was not written off") % {"debt": debt_external_id}
    if problems := _form_problems(reason, confirmo):
        return back_to_audit(debtor, error=f"{refused}: " + "; ".join(map(words.gettext, problems)))
    try:
        done = await container.portfolio.write_off(debt_external_id, debtor.creditor_id, reason, staff.actor)
    except UnknownDebt as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except DebtNotCollectable as exc:
        why = NOT_WRITABLE_OFF.get(exc.status)
        return back_to_audit(debtor, error=f"{refused}: {words.gettext(why) if why else exc}")
    except (UnknownCreditor, ValueError) as exc:  # a creditor without policies, an empty reason
        return back_to_audit(debtor, error=f"{refused}: {exc}")
    return back_to_audit(debtor, msg=words.gettext(
        "Debt %(debt)s written off: %(outstanding)s outstanding, %(reminders)s reminder(s) "
        "withdrawn, %(promises)s promise(s) cancelled.") % {
            "debt": debt_external_id, "outstanding": words.money(done.outstanding, debt.currency),
            "reminders": done.contacts_withdrawn, "promises": done.promises_cancelled})
