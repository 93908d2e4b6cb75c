"""Admin API on one debt: the write-off (the creditor gives up on collecting it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from bot.api.deps import AdminDep, ContainerDep
from bot.schemas import MoneyOut
from bot.services.portfolio import DebtNotCollectable, UnknownCreditor, UnknownDebt

router = APIRouter(prefix="/api/v1/debts", tags=["admin"], dependencies=[AdminDep])


class WriteOffIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    creditor: Annotated[str, Field(min_length=1, max_length=64, description="the creditor id")]
    reason: Annotated[str, Field(min_length=1, max_length=500,
                                 description="why the creditor gives up (kept in the audit trail)")]


class WriteOffOut(BaseModel):
    creditor: str
    debt_external_id: str
    debtor_external_id: str
    status: str = "written_off"
    previous_status: str
    outstanding: MoneyOut = Field(description="face amount not paid")
    balance: MoneyOut = Field(description="with the policy's fees and interest, today")
    contacts_withdrawn: int = Field(description="régua reminders taken back before they went")
    promises_cancelled: int
    reason: str
    at: datetime


@router.post("/{external_id}/write-off", response_model=WriteOffOut, responses={
    404: {"description": "no such debt for the creditor"},
    409: {"description": "the debt is paid, written off already or in an active agreement"},
    422: {"description": "unknown creditor or missing reason"}})
async def write_off(external_id: str, body: WriteOffIn, container: ContainerDep) -> WriteOffOut:
    """Write the debt off: the régua, the follow-up and the bot stop chasing it; a payment that
    arrives later is still recorded (and settles it)."""
    try:
        done = await container.portfolio.write_off(external_id, body.creditor, body.reason, actor="admin")
    except UnknownCreditor as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["body", "creditor"], "msg": str(exc)}]) from exc
    except UnknownDebt as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except DebtNotCollectable as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return WriteOffOut(creditor=done.creditor, debt_external_id=done.debt_external_id,
                       debtor_external_id=done.debtor_external_id, previous_status=done.previous_status,
                       outstanding=done.outstanding, balance=done.balance,
                       contacts_withdrawn=done.contacts_withdrawn, promises_cancelled=done.promises_cancelled,
                       reason=done.reason, at=done.at)
