"""Admin API: portfolio upserts, debtor view, payments."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from bot import schemas
from bot.api.deps import AdminDep, ContainerDep
from bot.services.portfolio import UnknownCreditor, UnknownDebt
from bot.storage.repositories.errors import AmbiguousDebtor, PaymentTooLarge

router = APIRouter(prefix="/api/v1", tags=["admin"], dependencies=[AdminDep])


@router.post("/portfolio", response_model=schemas.ImportReport)
async def upsert_portfolio(body: schemas.PortfolioIn,
                           container: ContainerDep) -> schemas.ImportReport:
    try:
        return await container.portfolio.import_portfolio(body)
    except UnknownCreditor as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body", "creditor"], "msg": str(exc)}]) from exc


@router.get("/debtors/{external_id}", response_model=schemas.DebtorOut)
async def get_debtor(external_id: str, container: ContainerDep,
                     creditor: str | None = None) -> schemas.DebtorOut:
    try:
        view = await container.portfolio.debtor_view(external_id, creditor)
    except AmbiguousDebtor as exc:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            "several creditors have this debtor: add ?creditor=ID") from exc
    if view is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no debtor {external_id!r}")
    return view


@router.post("/payments", response_model=schemas.PaymentOut)
async def record_payment(body: schemas.PaymentIn, container: ContainerDep) -> schemas.PaymentOut:
    try:
        return await container.portfolio.record_payment(body)
    except UnknownDebt as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except PaymentTooLarge as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body", "amount"], "msg": str(exc)}]) from exc
