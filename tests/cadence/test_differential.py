"""Differential tests: the set-wise SQL planner says exactly what the reference planner says.

Hypothesis generates a valid policy (1–6 segments, with and without ``when``, overlapping;
régua steps before, on and after the due date with their channel lists; contact hours
including Saturday-only days and different windows per day; holidays on or off; caps 1–5),
a portfolio (debtors in São Paulo — with its daylight-saving years 2017–2019 —, Noronha,
Manaus and Rio Branco; several debts and contacts each; every debt status and every pause:
opt-out, wrong person, unreachable, dispute, a person owns the conversation, agreement,
promise, "already paid" with payment claims pending, confirmed and rejected, written off;
contacts made by earlier runs and the follow-up's reminders) and a day with a moment to
decide it. ``CadenceService.preview`` on the database must equal
:func:`tests.cadence.reference.plan`, row for row (debtor, debt, step, template, segment,
cadence; channel and ``at`` for a contact, the reason for a skip).

One database per backend serves every example (the rows are deleted between examples).
``ACORDO_DIFF_EXAMPLES`` sets the number of examples per backend (default 500; ``make
test-deep`` runs 10,000); the count run is printed.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cadence.calendar import national_holidays
from bot.cadence.service import CadenceService
from bot.clock import FixedClock
from bot.contact_rules import ContactCalendar
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.rendering.renderer import TemplateRenderer
from bot.services.audit_kinds import AuditKind
from bot.storage import create_engine, migrate, session_factory
from bot.storage import models as db
from bot.storage.cadence_models import CadenceContact
from bot.storage.claim_models import PaymentClaim as PaymentClaimRow
from bot.storage.payment_models import FollowUpEvent
from bot.storage.payment_models import Promise as PromiseRow
from bot.storage.uow import unit_of_work
from tests.cadence import reference as ref
from tests.support.policy_samples import CHANNELS, CREDITOR, MONEY, ZONES, policies

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ACORDO_DIFF_EXAMPLES", "500"))
# São Paulo's clocks changed at midnight on these days (2017–2019), and national holidays.
DAYS = (
    date(2017, 10, 14), date(2017, 10, 15), date(2017, 10, 16), date(2018, 2, 17), date(2018, 2, 18),
    date(2018, 11, 3), date(2018, 11, 4), date(2018, 11, 5), date(2019, 2, 16), date(2019, 2, 17),
    date(2018, 11, 15), date(2018, 12, 25), date(2019, 1, 1), date(2019, 4, 19),
)


# -- portfolios ----------------------------------------------------------------------------------


@dataclass
class Case:
    policy: Policy
    day: date
    clock: datetime
    portfolio: ref.Portfolio
    channels_on: frozenset[str]


def moment(day: date, offset_days: int, hour: int, minute: int, zone: str) -> datetime:
    local = datetime.combine(day + timedelta(days=offset_days), time(hour, minute), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    policy = draw(policies())
    day = draw(st.one_of(st.sampled_from(DAYS), st.dates(date(2017, 1, 1), date(2019, 12, 31)),
                         st.dates(date(2026, 1, 1), date(2026, 12, 31))))
    zone = policy.creditor.timezone
    # The moment deciding: a time on the day itself (the real now) or another day (its start).
    if draw(st.booleans()):
        clock = moment(day, 0, draw(st.integers(0, 23)), draw(st.sampled_from([0, 30, 59])), zone)
    else:
        clock = moment(day, draw(st.sampled_from([-3, 2])), 12, 0, zone)
    p = ref.Portfolio()
    ids = iter(range(1, 10_000))
    steps = [(name, number, step) for name, cadence in policy.cadence.items()
             for number, step in enumerate(cadence, start=1)]
    for n in range(draw(st.integers(1, 4))):
        debtor = ref.Debtor(next(ids), f"d{n}", draw(st.sampled_from(ZONES)))
        p.debtors.append(debtor)
        for c in range(draw(st.sampled_from([0, 1, 1, 2, 3]))):
            contact = ref.Contact(
                next(ids), debtor.id, draw(st.sampled_from(("whatsapp", *CHANNELS))),
                draw(st.sampled_from(["active"] * 3 + ["opted_out", "wrong_person", "unreachable"])),
                draw(st.none() | st.sampled_from(ZONES)),
            )
            p.contacts.append(contact)
            if draw(st.booleans()):
                state = draw(st.sampled_from(["bot", "bot", "bot", "human"]))
                p.conversations.append(ref.Conversation(contact.id, state))
            del c
        for k in range(draw(st.integers(1, 3))):
            amount = Decimal(draw(MONEY))
            paid = draw(st.sampled_from([Decimal("0.00"), (amount / 2).quantize(Decimal("0.01")), amount]))
            debt = ref.Debt(
                next(ids), debtor.id, f"d{n}-{k}", amount, paid,
                day + timedelta(days=draw(st.integers(-50, 10))),
                draw(st.sampled_from(["open"] * 8 + ["in_agreement", "paid", "disputed", "written_off"])),
            )
            p.debts.append(debt)
            for _ in range(draw(st.integers(0, 2))):
                paid_at = moment(debt.due_date, draw(st.integers(-5, 40)), draw(st.integers(0, 23)), 0, zone)
                created = moment(day, draw(st.integers(-10, 1)), draw(st.integers(0, 23)), 0, zone)
                p.payments.append(ref.Payment(debt.id, paid_at, created))
        for _ in range(draw(st.sampled_from([0, 0, 0, 1]))):
            p.agreements.append(ref.Agreement(debtor.id, draw(st.sampled_from(["active", "kept", "broken",
                                                                                "cancelled"]))))
        for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
            p.promises.append(ref.Promise(debtor.id, draw(st.sampled_from(["pending", "kept", "broken",
                                                                            "broken", "cancelled"])),
                                          day + timedelta(days=draw(st.integers(-400, 30)))))
        for _ in range(draw(st.sampled_from([0, 0, 0, 1]))):
            p.reports.append(ref.AlreadyPaidReport(
                debtor.id, moment(day, draw(st.integers(-8, 1)), draw(st.integers(0, 23)), 0, zone)))
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            status = draw(st.sampled_from(["pending", "confirmed", "rejected", "rejected"]))
            opened = moment(day, draw(st.integers(-8, 0)), draw(st.integers(0, 23)), 0, zone)
            p.claims.append(ref.PaymentClaim(debtor.id, status, opened, None if status == "pending" else
                                             opened + timedelta(hours=draw(st.integers(0, 72)))))
        mine = [c for c in p.contacts if c.debtor_id == debtor.id]
        debts = [d for d in p.debts if d.debtor_id == debtor.id]
        for _ in range(draw(st.integers(0, 3)) if mine else 0):
            cadence, number, step = draw(st.sampled_from(steps))
            contact = draw(st.sampled_from(mine))
            when = day + timedelta(days=draw(st.integers(-8, 0)))
            where = contact.timezone or debtor.timezone
            p.past.append(ref.PastContact(
                draw(st.sampled_from(debts)).id, debtor.id, contact.id, draw(st.sampled_from(
                    [s.name for s in policy.segments])), cadence, number, step.template, contact.channel,
                when, where, moment(when, 0, draw(st.integers(8, 19)), 0, where),
                draw(st.sampled_from(["planned", "queued", "sent", "fell_back", "failed", "cancelled",
                                      "expired"])),
                draw(st.sampled_from([0, 0, 1])),
            ))
        for _ in range(draw(st.integers(0, 2))):
            p.followups.append(ref.FollowUp(debtor.id, day + timedelta(days=draw(st.integers(-8, 0))),
                                            draw(st.sampled_from(["remind", "followup", "notice", "kept"]))))
    some = st.lists(st.sampled_from(CHANNELS), min_size=1, unique=True)
    channels_on = frozenset(draw(st.one_of(st.just(CHANNELS), st.just(CHANNELS), some)))
    return Case(policy, day, clock, p, channels_on)


# -- the database side ---------------------------------------------------------------------------

WRITTEN = (CadenceContact, FollowUpEvent, PaymentClaimRow, db.AuditEvent, db.Payment, PromiseRow,
           db.Agreement, db.Conversation, db.Contact, db.Debt, db.Debtor, db.Creditor)


async def store(engine: AsyncEngine, case: Case) -> None:
    p, zone = case.portfolio, case.policy.creditor.timezone
    stamp = datetime(2016, 1, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        for model in WRITTEN:
            await conn.execute(delete(model))

        async def rows(model: Any, values: list[dict[str, Any]]) -> None:
            if values:
                await conn.execute(insert(model), values)

        await rows(db.Creditor, [{"id": CREDITOR, "name": "Acme", "tax_id": "11222333000181",
                                  "created_at": stamp}])
        await rows(db.Debtor, [
            {"id": d.id, "creditor_id": CREDITOR, "external_id": d.external_id, "name": d.external_id,
             "timezone": d.timezone, "locale": "pt-BR", "created_at": stamp, "updated_at": stamp}
            for d in p.debtors])
        await rows(db.Contact, [
            {"id": c.id, "debtor_id": c.debtor_id, "name": "x", "channel": c.channel, "address": f"a{c.id}",
             "status": c.status, "timezone": c.timezone, "created_at": stamp} for c in p.contacts])
        channel_of = {c.id: c.channel for c in p.contacts}
        await rows(db.Conversation, [
            {"contact_id": v.contact_id, "channel": channel_of[v.contact_id], "address": f"a{v.contact_id}",
             "state": v.state, "public_id": f"pub{v.contact_id}", "created_at": stamp, "updated_at": stamp}
            for v in p.conversations])
        await rows(db.Debt, [
            {"id": d.id, "creditor_id": CREDITOR, "debtor_id": d.debtor_id, "external_id": d.external_id,
             "amount": d.amount, "paid_amount": d.paid_amount, "currency": "BRL", "due_date": d.due_date,
             "status": d.status, "created_at": stamp, "updated_at": stamp} for d in p.debts])
        await rows(db.Payment, [
            {"debt_id": x.debt_id, "amount": Decimal("1.00"), "paid_at": x.paid_at,
             "created_at": x.created_at} for x in p.payments])
        await rows(db.Agreement, [
            {"debtor_id": a.debtor_id, "kind": "full_payment", "total": Decimal("1.00"), "created_by": "bot",
             "status": a.status, "created_at": stamp} for a in p.agreements])
        await rows(PromiseRow, [
            {"debtor_id": x.debtor_id, "promised_date": x.promised_date, "balance": Decimal("1.00"),
             "status": x.status, "created_at": stamp} for x in p.promises])
        await rows(db.AuditEvent, [
            {"at": r.at, "actor": "bot", "kind": AuditKind.ALREADY_PAID_REPORTED.value,
             "debtor_id": r.debtor_id} for r in p.reports])
        await rows(PaymentClaimRow, [
            {"debtor_id": c.debtor_id, "status": c.status, "text": "", "created_at": c.created_at,
             "updated_at": c.created_at, "resolved_at": c.resolved_at} for c in p.claims])
        await rows(CadenceContact, [
            {"idempotency_key": f"k{i}", "creditor_id": CREDITOR, "debtor_id": m.debtor_id,
             "debt_id": m.debt_id, "contact_id": m.contact_id, "segment": m.segment, "cadence": m.cadence,
             "step": m.step,
             "template": m.template, "channel": m.channel, "attempt": m.attempt, "day": m.day,
             "timezone": m.timezone, "at": m.at, "window_end": m.at + timedelta(hours=1), "status": m.status,
             "created_at": stamp, "updated_at": stamp} for i, m in enumerate(p.past)])
        await rows(FollowUpEvent, [
            {"key": f"f{i}", "kind": f.kind, "debtor_id": f.debtor_id, "day": f.day, "at": stamp}
            for i, f in enumerate(p.followups)])
    del zone


def calendar(policy: Policy, day: date) -> ContactCalendar:
    national: set[date] = set()
    if policy.contact_rules.holidays:
        for year in (day.year - 1, day.year, day.year + 1):
            national |= national_holidays(policy.contact_rules.holidays, year)
    return ContactCalendar.from_rules(policy.contact_rules, national)


async def sql_plan(engine: AsyncEngine, case: Case) -> tuple[list[ref.Planned], list[ref.Skipped]]:
    service = CadenceService(unit_of_work(session_factory(engine)), PolicyBook({CREDITOR: case.policy}),
                             TemplateRenderer(ROOT / "templates"), FixedClock(case.clock), case.channels_on)
    preview = await service.preview(case.day, CREDITOR)
    planned = [ref.Planned(p.debtor, p.debt, p.step, p.template, p.channel, p.at.isoformat(), p.segment,
                           p.cadence) for p in preview.planned]
    skipped = [ref.Skipped(s.debtor, s.debt, s.step, s.reason, s.template, s.segment, s.cadence)
               for s in preview.skipped]
    return sorted(planned, key=ref._key), sorted(skipped, key=ref._key)


def reference_plan(case: Case) -> tuple[list[ref.Planned], list[ref.Skipped]]:
    now = ref.deciding_moment(case.clock, case.day, case.policy.creditor.timezone)
    rules = calendar(case.policy, case.day)
    return ref.plan(case.policy, case.portfolio, case.day, now, case.channels_on, rules)


# -- the tests -----------------------------------------------------------------------------------


@dataclass
class Backend:
    loop: asyncio.AbstractEventLoop
    engine: AsyncEngine
    name: str
    examples: int = 0
    planned: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """One migrated database per backend for every example, on an event loop of its own (the
    examples run one after the other from a synchronous test)."""
    from tests.storage.conftest import create_postgres_database, drop_postgres_database

    loop = asyncio.new_event_loop()
    url = (f"sqlite:///{tmp_path_factory.mktemp('diff') / 'diff.db'}" if request.param == "sqlite"
           else loop.run_until_complete(create_postgres_database()))
    try:
        loop.run_until_complete(migrate(url))
        engine = create_engine(url, clock=FixedClock(datetime(2016, 1, 1, tzinfo=UTC)))
        found = Backend(loop, engine, request.param)
        yield found
        loop.run_until_complete(engine.dispose())
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(found.reasons.items()))
        print(f"\ndifferential planner ({request.param}): {found.examples} examples, all equal; "
              f"{found.planned} contacts planned, skipped: {reasons}")
    finally:
        if request.param != "sqlite":
            loop.run_until_complete(drop_postgres_database(url))
        loop.close()


def check(backend: Backend, case: Case) -> None:
    backend.loop.run_until_complete(store(backend.engine, case))
    got = backend.loop.run_until_complete(sql_plan(backend.engine, case))
    backend.examples += 1
    backend.planned += len(got[0])
    backend.reasons.update(s.reason for s in got[1])
    expected = reference_plan(case)
    assert got[0] == expected[0], f"planned differs for {case!r}"
    assert got[1] == expected[1], f"skipped differs for {case!r}"


@pytest.mark.timeout(max(120, EXAMPLES))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_sql_planner_equals_the_reference(backend: Backend, case: Case) -> None:
    check(backend, case)


# -- named regressions (each found by the suite above or by reading the planner) ------------------

MONDAY = date(2026, 12, 7)


def one_debtor_case(segments: list[dict[str, Any]], cadence: dict[str, list[dict[str, Any]]], *,
                    due: date, **extra: Any) -> Case:
    """A debtor in São Paulo with one WhatsApp contact and one open debt, decided on Monday
    2026-12-07 at 12:00 local time; ``extra`` adds rows to the portfolio."""
    policy = Policy.model_validate({
        "version": 1,
        "creditor": {"name": "Acme Credora Ltda", "tax_id": "11.222.333/0001-81"},
        "segments": segments,
        "negotiation": {"std": {
            "full_payment_discount_max_percent": 5, "installments_max": 6, "installment_min_amount": "100.00",
            "down_payment_min_percent": 10, "monthly_interest_percent": 1, "first_due_within_days": 10,
            "max_rounds": 4}},
        "cadence": cadence,
        "contact_rules": {"max_contacts": {"per_day": 5, "per_7_days": 5}},
    }).model_copy(update={"id": CREDITOR})
    portfolio = ref.Portfolio(
        debtors=[ref.Debtor(1, "d0", "America/Sao_Paulo")],
        contacts=[ref.Contact(2, 1, "whatsapp", "active")],
        debts=[ref.Debt(3, 1, "d0-0", Decimal("1000.00"), Decimal("0.00"), due, "open"),
               *extra.pop("debts", [])],
        **extra,
    )
    return Case(policy, MONDAY, moment(MONDAY, 0, 12, 0, "America/Sao_Paulo"), portfolio, frozenset(CHANNELS))


STEP_1 = {"day": 1, "template": "overdue_first", "channels": ["whatsapp"]}
REGRESSIONS = {
    # Two steps on the same day: the SQL took the last listed, current_step the first.
    "tied_steps": one_debtor_case(
        [{"name": "all", "negotiation": "std", "cadence": "c0"}],
        {"c0": [STEP_1, {"day": 1, "template": "overdue_offer", "channels": ["whatsapp"]}]},
        due=MONDAY - timedelta(days=1)),
    # One segment without `when`: the planner wrote `CASE ELSE .. END`.
    "one_segment": one_debtor_case(
        [{"name": "all", "negotiation": "std", "cadence": "c0"}], {"c0": [STEP_1]},
        due=MONDAY - timedelta(days=1)),
    # `days_past_due: {min: 0}` must leave out a debt not yet due (the SQL dropped bounds <= 0).
    "days_past_due_min_zero": one_debtor_case(
        [{"name": "due", "when": {"days_past_due": {"min": 0}}, "negotiation": "std", "cadence": "c0"},
         {"name": "upcoming", "negotiation": "std", "cadence": "c1"}],
        {"c0": [STEP_1], "c1": [{"day": -3, "template": "reminder_upcoming", "channels": ["whatsapp"]}]},
        due=MONDAY + timedelta(days=3)),
    # A debtor who paid an invoice early is 0 days late, not a negative number.
    "paid_early_is_zero_days_late": one_debtor_case(
        [{"name": "punctual", "when": {"past_days_late": {"min": 0, "max": 0}}, "negotiation": "std",
          "cadence": "c0"},
         {"name": "other", "negotiation": "std", "cadence": "c1"}],
        {"c0": [STEP_1], "c1": [{"day": 1, "template": "overdue_offer", "channels": ["whatsapp"]}]},
        due=MONDAY - timedelta(days=1),
        debts=[ref.Debt(4, 1, "d0-old", Decimal("500.00"), Decimal("500.00"), date(2026, 10, 10), "paid")],
        payments=[ref.Payment(4, datetime(2026, 10, 5, 15, 0, tzinfo=UTC),
                              datetime(2026, 10, 5, 15, 0, tzinfo=UTC))]),
}


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_named_regression(backend: Backend, name: str) -> None:
    case = REGRESSIONS[name]
    check(backend, case)
    assert reference_plan(case)[0], "the example plans a contact"
