"""The follow-up of installments runs in the worker's régua loop, once per creditor day, and
obeys the contact rules: the caps shared with the régua, the hours, opt-outs. Status changes
(a broken agreement) never wait for a contact. On SQLite and PostgreSQL; two runs at once on
PostgreSQL send each reminder once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.cadence.followup.service import FollowUpService
from bot.cadence.service import CadenceService
from bot.clock import FixedClock
from bot.policies import PolicyBook
from bot.rendering.renderer import TemplateRenderer
from bot.services.payments import PaymentDesk, providers_for
from bot.storage import create_engine, session_factory
from bot.storage import models as db
from bot.storage.cadence_models import ContactDecision
from bot.storage.channel_models import OutboxMessage
from bot.storage.payment_models import FollowUpEvent
from bot.storage.uow import unit_of_work
from tests.cadence.conftest import CNPJ, MONDAY, ROOT, Env, debtor, postgres_portfolio
from tests.support.agreements import agree, at_local

TUESDAY = MONDAY + timedelta(days=1)
CHANNELS = {"web", "telegram", "whatsapp", "sms"}


def followup_service(env: Env) -> FollowUpService:
    return FollowUpService(unit_of_work(env.sessions), env.policies, TemplateRenderer(ROOT / "templates"),
                           env.clock, PaymentDesk({}))


async def outbox(env: Env, template: str | None = None) -> list[OutboxMessage]:
    async with env.sessions() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if template is not None:
            query = query.where(OutboxMessage.template == template)
        return list(await session.scalars(query))


async def decisions(env: Env) -> list[ContactDecision]:
    async with env.sessions() as session:
        query = select(ContactDecision).where(ContactDecision.segment == "followup")
        return list(await session.scalars(query.order_by(ContactDecision.id)))


async def regua_contact_sent_today(env: Env) -> None:
    """The régua's reminder of the day went out (its outbox row sent, the contact followed up)."""
    await env.cadence.schedule(MONDAY)
    assert await env.cadence.materialize() == 1
    async with env.sessions() as session:
        await session.execute(update(OutboxMessage).values(status="sent"))
        await session.commit()
    assert (await env.cadence.sweep())["sent"] == 1


async def test_a_reminder_over_the_daily_cap_is_held_and_goes_on_the_next_contact_day(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", date(2026, 12, 6))], [("whatsapp", "+5511900000001")]))
    await regua_contact_sent_today(env)  # per_day: 1 — the day's contact is made
    await agree(env, "SP-1", [(TUESDAY, "500.00"), (date(2027, 1, 8), "500.00")])
    followup = followup_service(env)
    env.clock.moment = at_local(MONDAY, 12)
    report = await followup.run(MONDAY)
    assert [d["action"] for d in report.decisions] == ["RemindInstallment"]
    assert report.messages == 0
    assert [(h["debtor"], h["reason"]) for h in report.held] == [("sp", "cap_per_day")]
    assert await outbox(env, "installment_reminder") == []
    [held] = await decisions(env)
    assert (held.cadence, held.template, held.reason, held.first_day, held.detail) == (
        "installment_reminder", "installment_reminder", "cap_per_day", MONDAY,
        f"installment:{held.step}:remind")
    assert (await followup.run(MONDAY)).messages == 0  # the same day again: still held, counted once
    assert [(d.days, d.last_day) for d in await decisions(env)] == [(1, MONDAY)]
    # Tuesday is the due date and a contact day: the held reminder goes, at the window's start.
    env.clock.moment = at_local(TUESDAY, 5)
    report = await followup.run(TUESDAY)
    assert [d["action"] for d in report.decisions] == ["RemindInstallment"] and report.messages == 1
    [row] = await outbox(env, "installment_reminder")
    assert row.next_attempt_at == at_local(TUESDAY, 8) and row.initiated_by == "bot"
    assert (await followup.run(TUESDAY)).decisions == []  # reminded: nothing twice


async def test_the_regua_counts_the_followup_and_a_broken_agreement_breaks_whatever_the_caps(
    env: Env,
) -> None:
    late = date(2026, 11, 20)  # installment 17 days late on Monday: beyond the grace of 5
    await env.load(
        debtor("nt", [("NT-1", "1000.00", date(2026, 11, 1))], [("whatsapp", "+5511900000002")]),
        debtor("cp", [("CP-1", "1000.00", date(2026, 11, 1))], [("whatsapp", "+5511900000003")]),
    )
    await agree(env, "NT-1", [(late, "1000.00")])
    followup = followup_service(env)
    env.clock.moment = at_local(MONDAY, 6)
    # nt: broken and told at once; the régua resumes, but the day's contact is made.
    report = await followup.run(MONDAY)
    assert [d["action"] for d in report.decisions] == ["BreakAgreement"] and report.messages == 1
    [notice] = await outbox(env, "agreement_broken")
    assert notice.next_attempt_at == at_local(MONDAY, 8)
    assert (await env.debt("NT-1")).status == "open"
    preview = await env.cadence.preview(MONDAY)
    assert [p.debtor for p in preview.planned] == ["cp"]
    assert [(s.debtor, s.reason) for s in preview.skipped] == [("nt", "cap_per_day")]


async def test_a_notice_over_the_cap_waits_for_the_next_day_while_the_agreement_breaks_at_once(
    env: Env,
) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", date(2026, 12, 6))], [("whatsapp", "+5511900000001")]))
    await regua_contact_sent_today(env)
    agreement_id = await agree(env, "SP-1", [(date(2026, 11, 20), "1000.00")])
    followup = followup_service(env)
    env.clock.moment = at_local(MONDAY, 12)
    report = await followup.run(MONDAY)
    assert [d["action"] for d in report.decisions] == ["BreakAgreement"] and report.messages == 0
    assert [h["reason"] for h in report.held] == ["cap_per_day"]
    async with env.sessions() as session:
        agreement = await session.get(db.Agreement, agreement_id)
        assert agreement is not None and agreement.status == "broken"
    assert (await env.debt("SP-1")).status == "open"
    assert await outbox(env, "agreement_broken") == []
    env.clock.moment = at_local(TUESDAY, 5)
    report = await followup.run(TUESDAY)
    assert [d["action"] for d in report.decisions] == ["NotifyBrokenAgreement"] and report.messages == 1
    [notice] = await outbox(env, "agreement_broken")
    assert notice.next_attempt_at == at_local(TUESDAY, 8)
    assert (await followup.run(TUESDAY)).decisions == []


async def test_an_opted_out_debtor_gets_no_followup_but_the_agreement_still_breaks(env: Env) -> None:
    await env.load(
        debtor("oo", [("OO-1", "1000.00", date(2026, 11, 1))], [("whatsapp", "+5511900000004")]),
        debtor("rm", [("RM-1", "1000.00", date(2026, 12, 1))], [("sms", "+5511900000005")]),
    )
    await agree(env, "OO-1", [(date(2026, 11, 20), "1000.00")])
    await agree(env, "RM-1", [(TUESDAY, "1000.00")])
    await env.set_contact("+5511900000004", status="opted_out")
    await env.set_contact("+5511900000005", status="wrong_person")
    env.clock.moment = at_local(MONDAY, 9)
    report = await followup_service(env).run(MONDAY)
    assert sorted(d["action"] for d in report.decisions) == ["BreakAgreement", "RemindInstallment"]
    assert report.messages == 0 and await outbox(env) == []
    assert sorted((h["debtor"], h["reason"]) for h in report.held) == [
        ("oo", "opted_out"), ("rm", "wrong_person")]
    assert (await env.debt("OO-1")).status == "open"  # broken all the same
    async with env.sessions() as session:
        kinds = [e.kind for e in await session.scalars(select(db.AuditEvent))]
        assert "agreement_broken" in kinds and "followup_sent" not in kinds


async def test_a_saturday_afternoon_run_holds_the_reminder_outside_the_hours(env: Env) -> None:
    saturday = date(2026, 12, 12)  # open 08:00-14:00; the installment is due on Monday
    await env.load(debtor("sp", [("SP-1", "1000.00", date(2026, 12, 30))], [("whatsapp", "+5511900000001")]))
    await agree(env, "SP-1", [(date(2026, 12, 14), "1000.00")])
    env.clock.moment = at_local(saturday, 15)
    report = await followup_service(env).run(saturday)
    assert [h["reason"] for h in report.held] == ["outside_hours"] and await outbox(env) == []


class CountingFollowUp:
    def __init__(self, inner: FollowUpService) -> None:
        self.inner = inner
        self.calls: list[tuple[date, str | None]] = []

    async def run(self, day: date, *, creditor: str | None = None, dry_run: bool = False) -> Any:
        self.calls.append((day, creditor))
        return await self.inner.run(day, creditor=creditor, dry_run=dry_run)


async def test_the_worker_tick_runs_the_followup_once_per_creditor_day(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", date(2026, 12, 6))], [("sms", "+5511900000001")]))
    await agree(env, "SP-1", [(TUESDAY, "500.00"), (date(2027, 1, 8), "500.00")])
    counting = CountingFollowUp(followup_service(env))
    worker = CadenceService(unit_of_work(env.sessions), env.policies, TemplateRenderer(ROOT / "templates"),
                            env.clock, CHANNELS, followup=counting)
    env.clock.moment = at_local(MONDAY, 0) + timedelta(seconds=30)  # the first tick of the day
    await worker.tick()
    env.clock.moment += timedelta(minutes=20)
    await worker.tick()
    assert counting.calls == [(MONDAY, "acme")]
    [reminder] = await outbox(env, "installment_reminder")
    assert reminder.next_attempt_at == at_local(MONDAY, 8)
    env.clock.moment = at_local(TUESDAY, 0) + timedelta(seconds=30)
    await worker.tick()
    await worker.tick()
    assert counting.calls == [(MONDAY, "acme"), (TUESDAY, "acme")]
    assert len(await outbox(env, "installment_reminder")) == 1  # nothing twice
    # The régua never chased the debt in agreement.
    assert [r.template for r in await outbox(env)] == ["installment_reminder"]


async def test_a_failing_followup_does_not_hold_up_the_regua(env: Env) -> None:
    class Broken:
        calls = 0

        async def run(self, day: date, *, creditor: str | None = None, dry_run: bool = False) -> Any:
            Broken.calls += 1
            raise RuntimeError("boom")

    await env.load(debtor("sp", [("SP-1", "1000.00", date(2026, 12, 6))], [("sms", "+5511900000001")]))
    worker = CadenceService(unit_of_work(env.sessions), env.policies, TemplateRenderer(ROOT / "templates"),
                            env.clock, CHANNELS, followup=Broken())
    env.clock.moment = at_local(MONDAY, 7)
    await worker.tick()
    await worker.tick()  # not retried at once
    assert Broken.calls == 1
    assert [r.template for r in await outbox(env)] == ["overdue_first"]
    env.clock.moment += timedelta(minutes=16)
    await worker.tick()
    assert Broken.calls == 2


# -- two runs at once on PostgreSQL -----------------------------------------------------------

DEBTORS = 24


@pytest.fixture
async def pg_database(policies: PolicyBook) -> AsyncIterator[str]:
    clock = FixedClock(at_local(MONDAY, 12))
    debtors = [{"external_id": f"d{i}", "name": f"Empresa {i}", "tax_id": CNPJ,
                "contacts": [{"name": "Financeiro", "channel": "sms", "address": f"+55119{i:08d}"}],
                "debts": [{"external_id": f"NF-{i}", "amount": "1000.00", "due_date": "2026-12-06"}]}
               for i in range(DEBTORS)]
    async with postgres_portfolio(policies, clock, debtors) as (url, sessions, portfolio):
        cadence = CadenceService(unit_of_work(sessions), policies, TemplateRenderer(ROOT / "templates"),
                                 clock, CHANNELS)
        env = Env(sessions, policies, clock, cadence, portfolio)
        for i in range(DEBTORS):
            await agree(env, f"NF-{i}", [(TUESDAY, "500.00"), (date(2027, 1, 8), "500.00")])
        yield url


@pytest.mark.postgres
async def test_two_followup_runs_at_once_on_postgres_send_each_reminder_once(
    pg_database: str, policies: PolicyBook
) -> None:
    clock = FixedClock(at_local(MONDAY, 12))
    engines = [create_engine(pg_database, clock=clock) for _ in range(2)]
    try:
        services = [FollowUpService(unit_of_work(session_factory(e)), policies,
                                    TemplateRenderer(ROOT / "templates"), clock, PaymentDesk({}))
                    for e in engines]
        reports = await asyncio.gather(*(s.run(MONDAY) for s in services))
        assert sum(r.messages for r in reports) == DEBTORS
        async with session_factory(engines[0])() as session:
            keys = list(await session.scalars(select(OutboxMessage.idempotency_key).where(
                OutboxMessage.template == "installment_reminder")))
            assert len(keys) == len(set(keys)) == DEBTORS
            messages = await session.scalar(select(func.count()).select_from(db.Message).where(
                db.Message.template == "installment_reminder"))
            assert messages == DEBTORS
            events = list(await session.scalars(select(FollowUpEvent.key)))
            assert len(events) == len(set(events)) == DEBTORS
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_reminder_carries_the_pix_qr_picture_only_where_the_channel_shows_it(env: Env) -> None:
    """Telegram gets the QR of the reminded installment as a picture; SMS never."""
    await env.load(debtor("tg", [("TG-1", "1000.00", date(2026, 12, 6))], [("telegram", "70001")]),
                   debtor("sm", [("SM-1", "1000.00", date(2026, 12, 6))], [("sms", "+5511900000009")]))
    for debt in ("TG-1", "SM-1"):
        await agree(env, debt, [(TUESDAY, "500.00"), (date(2027, 1, 8), "500.00")])
    acme = env.policies["acme"]  # the creditor's PIX key: instructions come with every reminder
    with_pix = PolicyBook({"acme": acme.model_copy(update={
        "creditor": acme.creditor.model_copy(update={"pix_key": "11222333000181"})})})
    followup = FollowUpService(unit_of_work(env.sessions), with_pix, TemplateRenderer(ROOT / "templates"),
                               env.clock, PaymentDesk(providers_for(with_pix)), picture_channels={"telegram"})
    env.clock.moment = at_local(MONDAY, 9)
    report = await followup.run(MONDAY)
    assert report.messages == 4
    rows = {row.channel: row for row in await outbox(env, "payment_instructions")}
    assert set(rows) == {"telegram", "sms"}
    txid = rows["telegram"].template_vars["charges"][0]["txid"]
    assert (rows["telegram"].media_kind, rows["telegram"].media_ref) == ("pix_qr", txid)
    assert (rows["sms"].media_kind, rows["sms"].media_ref) == (None, None)
