"""Admin pages of the payments follow-up: results dashboard (``/admin/results`` + CSV), the audit view of a
debtor (with its debts and their write-off), the payment provider webhook, the PIX QR image
and ``/metrics``."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from bot import schemas
from bot.api.deps import ContainerDep
from bot.api.staff_deps import SECURITY_HEADERS, AdminCsrfDep, AdminStaffDep, page
from bot.bootstrap import Container
from bot.payments.provider import InvalidWebhook
from bot.payments.qr import qr_png
from bot.rendering.renderer import format_money
from bot.rendering.svg_charts import bar_chart, line_chart
from bot.services.audit_trail import debtor_timeline
from bot.services.metrics import CONTENT_TYPE
from bot.services.portfolio import DebtNotCollectable, UnknownCreditor, UnknownDebt
from bot.services.results.csv_export import to_csv
from bot.services.results.figures import Results
from bot.services.staff_accounts import StaffIdentity
from bot.storage import models as db
from bot.storage.payment_models import PaymentMethod
from bot.storage.payment_repositories import ChargeRepository
from bot.storage.repositories.errors import AmbiguousDebtor
from bot.storage.repositories.portfolio import PortfolioRepository

router = APIRouter(tags=["results"], include_in_schema=False)
public = APIRouter(tags=["payments"])
_bearer = HTTPBearer(auto_error=False)

LABELS = {
    "overdue": "Overdue", "recovered": "Recovered", "recovery_rate": "Recovery rate",
    "agreements_made": "Agreements made", "agreements_kept": "Kept", "agreements_broken": "Broken",
    "promises_made": "Promises", "promises_kept": "Kept", "promises_broken": "Broken",
    "promise_kept_rate": "Promise-kept rate", "avg_days_to_payment": "Days to payment",
    "resolved_without_human": "Without a human", "contacts": "Contacts",
    "contacts_per_real": "Contacts per R$", "cost": "Cost", "negotiations": "Negotiations",
    "cost_per_negotiation": "Cost per negotiation", "debtors": "Debtors", "debts": "Debts",
    "amount": "Amount", "outstanding": "Outstanding", "cumulative": "Cumulative",
    "payments": "Payments (last touch)",
}
MONEY = {"overdue", "recovered", "cost", "cost_per_negotiation", "amount", "outstanding", "cumulative"}
RATES = {"recovery_rate", "promise_kept_rate", "resolved_without_human"}


def shown(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in RATES:
        return f"{Decimal(value) * 100:.1f}%"
    if key in MONEY:
        return f"R$ {Decimal(value):,.2f}"
    return str(value)


def _period(container: Any, creditor: str | None, start: date | None, end: date | None
            ) -> tuple[str, date, date]:
    creditors = sorted(container.policies)
    chosen = creditor or (creditors[0] if creditors else "")
    if chosen not in container.policies:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown creditor {creditor!r}")
    today = container.clock.now().date()
    end = end or today
    start = start or end - timedelta(days=29)
    if start > end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "start is after end")
    return chosen, start, end


def _view_table(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    headers = list(rows[0]) if rows else []
    return {"name": name, "headers": [LABELS.get(h, h.replace("_", " ").capitalize()) for h in headers],
            "keys": headers, "rows": [[shown(k, r[k]) for k in headers] for r in rows]}


def _charts(results: Results) -> list[Any]:
    status_items = [(r["status"].replace("_", " "), r["outstanding"], shown("amount", r["outstanding"]))
                    for r in results.by_status]
    segment_items = [(r["segment"], r["recovery_rate"] or 0, shown("recovery_rate", r["recovery_rate"]))
                     for r in results.by_segment]
    channel_items = [(r["channel"], r["recovered"], shown("recovered", r["recovered"]))
                     for r in results.by_channel]
    step_items = [(r["step"], r["recovered"], shown("recovered", r["recovered"])) for r in results.by_step]
    over_time = [(r["day"], r["recovery_rate"] or Decimal(0)) for r in results.over_time]
    return [line_chart(over_time, "Recovery rate over the period (cumulative)"),
            bar_chart(status_items, "Outstanding by status"),
            bar_chart(segment_items, "Recovery rate by segment"),
            bar_chart(channel_items, "Recovered by channel"),
            bar_chart(step_items, "Recovered by the régua's last step before payment")]


@router.get("/admin/results")
async def results_page(container: ContainerDep, staff: AdminStaffDep, creditor: str | None = None,
                       start: date | None = None, end: date | None = None) -> Response:
    creditor, start, end = _period(container, creditor, start, end)
    results = await container.results.compute(creditor, start, end)
    summary = results.summary
    cards = [(LABELS[k], shown(k, summary[k])) for k in (
        "recovery_rate", "recovered", "overdue", "agreements_made", "agreements_kept",
        "promise_kept_rate", "avg_days_to_payment", "resolved_without_human", "contacts_per_real",
        "cost_per_negotiation")]
    tables = [_view_table(name, rows) for name, rows in results.tables().items()]
    return page("results.html", staff=staff, creditor=creditor, creditors=sorted(container.policies),
                start=start, end=end, cards=cards, charts=_charts(results), tables=tables)


def attachment(filename: str) -> str:
    """``Content-Disposition`` for a download: an ASCII fallback name and the exact name in
    RFC 5987 form (``filename*=UTF-8''…``), so any debtor id fits in the header."""
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\%;' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def csv_download(body: str, filename: str) -> Response:
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={**SECURITY_HEADERS, "Content-Disposition": attachment(filename)})


@router.get("/admin/results.csv")
async def results_csv(container: ContainerDep, staff: AdminStaffDep, table: str = "summary",
                      creditor: str | None = None, start: date | None = None,
                      end: date | None = None) -> Response:
    creditor, start, end = _period(container, creditor, start, end)
    tables = (await container.results.compute(creditor, start, end)).tables()
    if table not in tables:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no table {table!r}: {', '.join(tables)}")
    name = f"acordo-{creditor}-{table}-{start.isoformat()}-{end.isoformat()}.csv"
    return csv_download(to_csv(tables[table]), name)


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


def _debt_rows(debtor: db.Debtor) -> list[DebtRow]:
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


def _back(debtor: db.Debtor, *, msg: str = "", error: str = "") -> RedirectResponse:
    return RedirectResponse(_audit_url(debtor.external_id, debtor.creditor_id, msg=msg, error=error),
                            status.HTTP_303_SEE_OTHER)


def _form_problems(reason: str, confirmed: str) -> list[str]:
    problems = []
    if not reason.strip():
        problems.append("informe o motivo da baixa / give the reason for the write-off")
    if not confirmed:
        problems.append("marque “confirmo” / tick “confirmo” to confirm")
    return problems


async def _debtor(container: Container, staff: StaffIdentity, external_id: str, creditor: str | None
                  ) -> db.Debtor | Response:
    """The debtor of an audit page (with its debts), or the 409 page naming the creditors when
    the id is ambiguous without ``?creditor=``; 404 when there is none."""
    async with container.sessions() as session:
        try:
            debtor = await PortfolioRepository(session).get_debtor(external_id, creditor)
        except AmbiguousDebtor as exc:
            return _ambiguous(staff, exc)
    if debtor is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no debtor {external_id!r}")
    return debtor


@router.get("/admin/debtors/{external_id}/audit")
async def audit_view(external_id: str, container: ContainerDep, staff: AdminStaffDep,
                     creditor: str | None = None, format: str = "html", msg: str = "",
                     error: str = "") -> Response:
    debtor = await _debtor(container, staff, external_id, creditor)
    if isinstance(debtor, Response):
        return debtor
    async with container.sessions() as session:
        entries = await debtor_timeline(session, debtor.id)
    rows = [e.as_row() for e in entries]
    if format == "csv":
        return csv_download(to_csv(rows), f"audit-{external_id}.csv")
    return page("audit.html", staff=staff, debtor=debtor, entries=entries, debts=_debt_rows(debtor),
                msg=msg, error=error)


@router.post("/admin/debtors/{external_id}/debts/{debt_external_id:path}/write-off")
async def write_off_debt(external_id: str, debt_external_id: str, container: ContainerDep,
                         staff: AdminCsrfDep, creditor: str | None = None,
                         reason: Annotated[str, Form()] = "",
                         confirmo: Annotated[str, Form()] = "") -> Response:
    """The creditor gives up on one of the debtor's debts (``PortfolioService.write_off``, which
    records the ``debt_written_off`` audit event with the staff member as actor)."""
    debtor = await _debtor(container, staff, external_id, creditor)
    if isinstance(debtor, Response):
        return debtor
    debt = next((d for d in debtor.debts if d.external_id == debt_external_id), None)
    if debt is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND,
                            f"no debt {debt_external_id!r} for debtor {external_id!r}")
    refused = f"Dívida {debt_external_id} não foi baixada / not written off"
    if problems := _form_problems(reason, confirmo):
        return _back(debtor, error=f"{refused}: " + "; ".join(problems))
    try:
        done = await container.portfolio.write_off(debt_external_id, debtor.creditor_id, reason, staff.actor)
    except UnknownDebt as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except DebtNotCollectable as exc:
        return _back(debtor, error=f"{refused}: {NOT_WRITABLE_OFF.get(exc.status, str(exc))}")
    except (UnknownCreditor, ValueError) as exc:  # a creditor without policies, an empty reason
        return _back(debtor, error=f"{refused}: {exc}")
    outstanding = format_money(done.outstanding, debt.currency, debtor.locale)
    return _back(debtor, msg=(
        f"Dívida {debt_external_id} baixada como perda: {outstanding} em aberto, "
        f"{done.contacts_withdrawn} lembrete(s) da régua retirado(s), {done.promises_cancelled} "
        f"promessa(s) cancelada(s). / Debt {debt_external_id} written off."))


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def require_metrics_token(container: ContainerDep, credentials: BearerDep) -> None:
    """``Authorization: Bearer`` with ``ACORDO_METRICS_TOKEN`` or ``ACORDO_ADMIN_TOKEN``; each set
    token is compared in constant time (all of them, whichever matches)."""
    given = (credentials.credentials if credentials else "").encode()
    settings = container.settings
    accepted = False
    for token in (settings.metrics_token, settings.admin_token):
        expected = token.get_secret_value().encode() if token is not None else b""
        accepted |= bool(expected) and secrets.compare_digest(given, expected)
    if not accepted:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid bearer token",
                            headers={"WWW-Authenticate": "Bearer"})


@public.get("/metrics", include_in_schema=False, dependencies=[Depends(require_metrics_token)])
async def metrics(container: ContainerDep) -> Response:
    """Prometheus text format; the scraper sends the metrics (or admin) bearer token."""
    return Response(await container.metrics.render(), media_type=CONTENT_TYPE)


@public.post("/payments/webhook/{provider}", response_model=list[schemas.PaymentOut])
async def payment_webhook(provider: str, request: Request, container: ContainerDep
                          ) -> list[schemas.PaymentOut]:
    """A payment provider reports payments; each is matched to our charge by txid and settles it."""
    adapters = {p.name: p for p in container.payments.providers()}
    adapter = adapters.get(provider)
    if adapter is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no payment provider {provider!r}")
    try:
        notices = adapter.parse_webhook(dict(request.headers), await request.body())
    except InvalidWebhook as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    results = []
    bodies = []
    for notice in notices:
        try:
            bodies.append(schemas.PaymentIn.model_validate({
                "txid": notice.txid, "amount": f"{notice.amount:.2f}", "paid_at": notice.paid_at,
                "reference": notice.provider_ref or notice.txid}))
        except ValidationError as exc:  # an amount or date out of bounds: nothing is settled
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [
                {"loc": ["body", "payments", *error["loc"]], "msg": error["msg"], "type": error["type"]}
                for error in exc.errors()]) from exc
    for body in bodies:
        try:
            results.append(await container.portfolio.record_payment(body))
        except UnknownDebt:
            continue  # not one of ours: acknowledged, nothing settled
    return results


@public.get("/pay/{txid}.png", include_in_schema=False)
async def pix_qr(txid: str, container: ContainerDep) -> Response:
    """The QR image of a PIX charge (what the chat links to and the channels send as a picture)."""
    async with container.sessions() as session:
        charge = await ChargeRepository(session).by_txid(txid)
    if charge is None or charge.method != PaymentMethod.PIX:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such PIX charge")
    return Response(qr_png(charge.payload), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=86400"})



