"""A written-off debt leaves the régua at once (its queued reminder withdrawn) and for good; a
payment that arrives later is still recorded. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.schemas import PaymentIn
from bot.services.portfolio import DebtNotCollectable, UnknownCreditor, UnknownDebt
from bot.storage import models as db
from bot.storage.cadence_models import CadenceContact
from bot.storage.channel_models import OutboxMessage
from bot.storage.payment_models import Promise
from bot.storage.payment_repositories import PromiseRepository
from tests.cadence.conftest import MONDAY, Env, debtor

DUE_SUNDAY = date(2026, 12, 6)


async def test_write_off_withdraws_the_queued_reminder_and_the_regua_never_plans_it_again(env: Env) -> None:
    await env.load(
        debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY), ("SP-2", "300.00", DUE_SUNDAY)],
               [("whatsapp", "+5511900000001")]),
        debtor("rj", [("RJ-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000002")]),
    )
    await env.cadence.schedule(MONDAY)
    assert await env.cadence.materialize() == 2  # SP-1 (oldest first, cap 1 a day) and RJ-1
    async with env.sessions() as session:
        sp = await session.scalar(select(db.Debtor).where(db.Debtor.external_id == "sp"))
        assert sp is not None
        await PromiseRepository(session).add(debtor_id=sp.id, promised_date=date(2026, 12, 10),
                                             balance=Decimal("1300.00"))
        await session.commit()
    done = await env.portfolio.write_off("SP-1", "acme", "  falência  ", actor="test")
    assert (done.previous_status, done.outstanding, done.contacts_withdrawn, done.promises_cancelled) == (
        "open", Decimal("1000.00"), 1, 0)  # SP-2 is still collected: the promise stays
    assert done.reason == "falência"
    assert (await env.debt("SP-1")).status == "written_off"
    async with env.sessions() as session:
        rows = {r.debt_id: r.status for r in await session.scalars(select(CadenceContact))}
        outbox = {r.address: r.status for r in await session.scalars(select(OutboxMessage))}
        [event] = list(await session.scalars(select(db.AuditEvent).where(
            db.AuditEvent.kind == "debt_written_off")))
    assert sorted(rows.values()) == ["cancelled", "queued"]
    assert outbox == {"+5511900000001": "cancelled", "+5511900000002": "pending"}
    assert event.actor == "test" and event.data is not None
    data = event.data
    assert (data["debt"], data["reason"], data["outstanding"]) == ("SP-1", "falência", "1000.00")
    # The next day the régua looks at SP-2 (next in line for the debtor), never at SP-1.
    preview = await env.cadence.preview(date(2026, 12, 8))
    assert "SP-1" not in {p.debt for p in preview.planned} | {s.debt for s in preview.skipped}
    assert "SP-2" in {s.debt for s in preview.skipped} | {p.debt for p in preview.planned}
    # The last debt written off: nothing left to promise against, the promise is cancelled.
    last = await env.portfolio.write_off("SP-2", "acme", "irrecuperável", actor="test")
    assert last.promises_cancelled == 1
    async with env.sessions() as session:
        assert [p.status for p in await session.scalars(select(Promise))] == ["cancelled"]


async def test_a_payment_after_the_write_off_is_recorded_and_settles_it(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    await env.portfolio.write_off("SP-1", "acme", "prescrita", actor="test")
    partial = await env.portfolio.record_payment(PaymentIn.model_validate(
        {"debt_external_id": "SP-1", "amount": "400.00", "paid_at": "2026-12-08T10:00:00-03:00"}))
    assert partial.debt_status == "written_off"
    assert (await env.debt("SP-1")).paid_amount == Decimal("400.00")
    full = await env.portfolio.record_payment(PaymentIn.model_validate(
        {"debt_external_id": "SP-1", "amount": "600.00", "paid_at": "2026-12-09T10:00:00-03:00"}))
    assert full.debt_status == "paid"
    with pytest.raises(DebtNotCollectable, match="is paid"):
        await env.portfolio.write_off("SP-1", "acme", "x", actor="test")


async def test_refused_write_offs(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    with pytest.raises(UnknownDebt):
        await env.portfolio.write_off("SP-9", "acme", "x", actor="test")
    with pytest.raises(UnknownCreditor):
        await env.portfolio.write_off("SP-1", "ghost", "x", actor="test")
    with pytest.raises(ValueError, match="reason"):
        await env.portfolio.write_off("SP-1", "acme", "   ", actor="test")
    await env.set_debt("SP-1", status="in_agreement")
    with pytest.raises(DebtNotCollectable, match="agreement"):
        await env.portfolio.write_off("SP-1", "acme", "x", actor="test")
    await env.set_debt("SP-1", status="disputed")
    assert (await env.portfolio.write_off("SP-1", "acme", "x", actor="test")).previous_status == "disputed"
    with pytest.raises(DebtNotCollectable, match="written off already"):
        await env.portfolio.write_off("SP-1", "acme", "x", actor="test")

