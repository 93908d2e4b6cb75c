"""The set-wise decision of a day's régua, on SQLite and PostgreSQL (what `cadence preview` shows)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.services.audit_kinds import AuditKind
from bot.storage import models as db
from bot.storage.cadence_models import CadenceContact, ContactDecision
from bot.storage.claim_models import PaymentClaim
from bot.storage.payment_models import Promise
from bot.storage.repositories.audit import AuditLog
from bot.storage.repositories.conversations import ConversationRepository
from tests.cadence.conftest import MONDAY, Env, debtor

DUE_SUNDAY = date(2026, 12, 6)  # gentle step 2 (day 1) falls on Monday


async def test_preview_has_the_contract_shape_with_at_in_the_contacts_zone(env: Env) -> None:
    await env.load(
        debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]),
        debtor(
            "am", [("AM-1", "1000.00", DUE_SUNDAY)], [("sms", "+5592900000001")], timezone="America/Manaus"
        ),
        debtor(
            "fn",
            [("FN-1", "1000.00", DUE_SUNDAY)],
            [("whatsapp", "+5581900000001")],
            contact_timezone="America/Noronha",
        ),
    )
    preview = (await env.cadence.preview(MONDAY)).as_json()
    assert set(preview) == {"date", "planned", "skipped"} and preview["date"] == "2026-12-07"
    by_debt = {row["debt"]: row for row in preview["planned"]}
    assert by_debt["SP-1"]["at"] == "2026-12-07T08:00:00-03:00"
    assert by_debt["AM-1"]["at"] == "2026-12-07T08:00:00-04:00"
    assert by_debt["FN-1"]["at"] == "2026-12-07T08:00:00-02:00"  # the contact's own zone wins
    row = by_debt["SP-1"]
    assert {k: row[k] for k in ("debtor", "debt", "step", "template", "channel")} == {
        "debtor": "sp",
        "debt": "SP-1",
        "step": 2,
        "template": "overdue_first",
        "channel": "whatsapp",
    }
    assert by_debt["AM-1"]["channel"] == "sms"  # whatsapp first, but only an SMS contact
    assert preview["skipped"] == []


async def test_now_inside_the_window_goes_now_and_after_it_is_outside_hours(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    env.clock.moment = datetime(2026, 12, 7, 13, 30, tzinfo=UTC)  # 10:30 in São Paulo
    planned = (await env.cadence.preview(MONDAY)).planned
    assert planned[0].at.isoformat() == "2026-12-07T10:30:00-03:00"
    env.clock.moment = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # 20:00: the window is over
    skipped = (await env.cadence.preview(MONDAY)).skipped
    assert [(s.debt, s.reason) for s in skipped] == [("SP-1", "outside_hours")]
    # Moved, not dropped: the next day it is still due.
    env.clock.moment = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    assert [p.debt for p in (await env.cadence.preview(date(2026, 12, 8))).planned] == ["SP-1"]


async def test_holidays_and_closed_days_defer_the_step(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", date(2026, 12, 23))], [("whatsapp", "+5511900000001")]))
    assert [s.reason for s in (await env.cadence.preview(date(2026, 12, 24))).skipped] == ["closed_day"]
    assert [s.reason for s in (await env.cadence.preview(date(2026, 12, 25))).skipped] == ["holiday"]
    assert [s.reason for s in (await env.cadence.preview(date(2026, 12, 27))).skipped] == [
        "closed_day"
    ]  # Sunday
    saturday = await env.cadence.preview(date(2026, 12, 26))
    assert [(p.debt, p.step, p.at.isoformat()) for p in saturday.planned] == [
        ("SP-1", 2, "2026-12-26T08:00:00-03:00")
    ]


async def test_every_pause_and_contact_reason(env: Env) -> None:
    names = [
        "paid",
        "dispute",
        "in_agreement",
        "agreement",
        "promise",
        "human",
        "already_paid",
        "opted_out",
        "wrong_person",
        "unreachable",
        "nobody",
        "ok",
    ]
    await env.load(
        *[
            debtor(
                name,
                [(f"{name}-1", "1000.00", DUE_SUNDAY)],
                [] if name == "nobody" else [("whatsapp", f"+55119000{i:05d}")],
            )
            for i, name in enumerate(names)
        ]
    )
    await env.set_debt("paid-1", status="paid", paid_amount=Decimal("1000.00"))
    await env.set_debt("dispute-1", status="disputed")
    await env.set_debt("in_agreement-1", status="in_agreement")
    await env.set_contact(f"+55119000{names.index('opted_out'):05d}", status="opted_out")
    await env.set_contact(f"+55119000{names.index('wrong_person'):05d}", status="wrong_person")
    await env.set_contact(f"+55119000{names.index('unreachable'):05d}", status="unreachable")
    async with env.sessions() as session:
        ids = dict((await session.execute(select(db.Debtor.external_id, db.Debtor.id))).all())
        session.add(
            db.Agreement(
                debtor_id=ids["agreement"],
                kind="full_payment",
                total=Decimal("900.00"),
                created_by="bot",
                status="active",
            )
        )
        session.add(
            Promise(
                debtor_id=ids["promise"],
                promised_date=MONDAY + timedelta(days=3),
                balance=Decimal("1000.00"),
                status="pending",
            )
        )
        contact = await session.scalar(select(db.Contact).where(db.Contact.debtor_id == ids["human"]))
        assert contact is not None
        conversation = await ConversationRepository(session).get_or_create(contact)
        conversation.state = "human"
        await AuditLog(session).record(
            AuditKind.ALREADY_PAID_REPORTED,
            "bot",
            debtor_id=ids["already_paid"],
            at=datetime(2026, 12, 5, 15, 0, tzinfo=UTC),
        )
        await session.commit()
    preview = await env.cadence.preview(MONDAY)
    reasons = {s.debtor: (s.reason, s.detail) for s in preview.skipped}
    assert reasons == {
        "paid": ("paid", None),
        "dispute": ("dispute", None),
        "in_agreement": ("agreement", None),
        "agreement": ("agreement", None),
        "promise": ("agreement", "promise"),
        "human": ("human", None),
        "already_paid": ("paid", "already_paid"),
        "opted_out": ("opted_out", None),
        "wrong_person": ("wrong_person", None),
        "unreachable": ("no_channel", None),
        "nobody": ("no_channel", None),
    }
    assert [p.debtor for p in preview.planned] == ["ok"]
    # The "already paid" pause runs out after 3 days (2026-12-05 + 3) without a payment.
    env.clock.moment = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    later = await env.cadence.preview(date(2026, 12, 8))
    assert "already_paid" in {p.debtor for p in later.planned}
    # A paid debt is reported on its step's own day only, not every day after.
    assert "paid" not in {s.debtor for s in later.skipped}


async def test_caps_count_contacts_across_channels_per_day_and_rolling_week(env: Env) -> None:
    await env.load(
        debtor(
            "multi",
            [("M-1", "100.00", DUE_SUNDAY), ("M-2", "100.00", DUE_SUNDAY), ("M-3", "100.00", DUE_SUNDAY)],
            [("whatsapp", "+5511911111111"), ("sms", "+5511922222222")],
        )
    )
    await env.set_contact("+5511911111111", status="unreachable")  # M-* go by SMS
    first = await env.cadence.preview(MONDAY)
    assert [p.debt for p in first.planned] == ["M-1"] and first.planned[0].channel == "sms"
    assert sorted((s.debt, s.reason) for s in first.skipped) == [
        ("M-2", "cap_per_day"),
        ("M-3", "cap_per_day"),
    ]
    await env.cadence.schedule(MONDAY)
    env.clock.moment = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    await env.cadence.schedule(date(2026, 12, 8))
    env.clock.moment = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    third = await env.cadence.preview(date(2026, 12, 9))
    assert [(s.debt, s.reason) for s in third.skipped] == [("M-3", "cap_per_7_days")]
    # The contacts made on Monday and Tuesday show as planned for their own days.
    assert [p.debt for p in (await env.cadence.preview(MONDAY)).planned] == ["M-1"]
    assert [p.debt for p in (await env.cadence.preview(date(2026, 12, 8))).planned] == ["M-2"]
    # A week after Monday the rolling window has room again; step 3 (day 7) is now current
    # for every invoice and supersedes M-3's step 2, which never went.
    env.clock.moment = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    week_later = await env.cadence.preview(date(2026, 12, 14))
    assert [(p.debt, p.step) for p in week_later.planned] == [("M-1", 3)]


async def test_schedule_is_idempotent_and_records_every_reason(env: Env) -> None:
    await env.load(
        debtor(
            "a",
            [("A-1", "100.00", DUE_SUNDAY), ("A-2", "100.00", DUE_SUNDAY)],
            [("whatsapp", "+5511933333333")],
        )
    )
    first = await env.cadence.schedule(MONDAY)
    again = await env.cadence.schedule(MONDAY)
    assert (first[0].planned, first[0].skipped) == (1, 1)
    assert again[0].planned == 0
    async with env.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CadenceContact)) == 1
        contact = await session.scalar(select(CadenceContact))
        assert contact is not None
        assert contact.idempotency_key == f"cadence:{contact.debt_id}:gentle:2:2026-12-07"
        decision = await session.scalar(select(ContactDecision))
        assert decision is not None
        assert (decision.reason, decision.days, decision.first_day) == ("cap_per_day", 1, MONDAY)
    env.clock.moment = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    await env.cadence.schedule(date(2026, 12, 8))
    async with env.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CadenceContact)) == 2


async def test_segments_pick_the_cadence_from_amount_days_and_payment_history(env: Env) -> None:
    await env.load(
        debtor(
            "small", [("S-1", "100.00", DUE_SUNDAY)], [("telegram", "1001"), ("whatsapp", "+5511944444444")]
        ),
        debtor(
            "large", [("L-1", "90000.00", DUE_SUNDAY)], [("telegram", "1002"), ("whatsapp", "+5511955555555")]
        ),
        debtor(
            "broken", [("B-1", "100.00", DUE_SUNDAY)], [("telegram", "1003"), ("whatsapp", "+5511966666666")]
        ),
        debtor("old", [("O-1", "100.00", MONDAY - timedelta(days=40))], [("whatsapp", "+5511977777777")]),
    )
    async with env.sessions() as session:
        broken_id = await session.scalar(select(db.Debtor.id).where(db.Debtor.external_id == "broken"))
        assert broken_id is not None
        session.add(
            Promise(
                debtor_id=broken_id,
                promised_date=MONDAY - timedelta(days=20),
                balance=Decimal("100.00"),
                status="broken",
            )
        )
        await session.commit()
    planned = {p.debtor: p for p in (await env.cadence.preview(MONDAY)).planned}
    assert (planned["small"].segment, planned["small"].cadence, planned["small"].channel) == (
        "early",
        "gentle",
        "whatsapp",
    )
    assert (planned["large"].segment, planned["large"].channel) == ("big", "telegram")
    assert (planned["broken"].segment, planned["broken"].channel) == ("repeat", "telegram")
    # 40 days late: segment "late", its régua's latest step (day 10) supersedes day 1.
    assert (planned["old"].segment, planned["old"].step, planned["old"].template) == (
        "late",
        2,
        "overdue_offer",
    )


async def test_a_pending_claim_pauses_until_decided_and_a_rejection_resumes(env: Env) -> None:
    names = ["pending", "rejected", "confirmed"]
    await env.load(*[debtor(name, [(f"{name}-1", "1000.00", DUE_SUNDAY)], [("whatsapp", f"+55119100{i:05d}")])
                     for i, name in enumerate(names)])
    reported = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)  # within the 3 pause days
    async with env.sessions() as session:
        ids = dict((await session.execute(select(db.Debtor.external_id, db.Debtor.id))).all())
        for name in names:
            await AuditLog(session).record(AuditKind.ALREADY_PAID_REPORTED, "bot", debtor_id=ids[name],
                                           at=reported)
            decided = None if name == "pending" else reported + timedelta(hours=1)
            session.add(PaymentClaim(debtor_id=ids[name], status=name, text="já paguei",
                                     created_at=reported, updated_at=reported, resolved_at=decided))
        await session.commit()
    preview = await env.cadence.preview(MONDAY)
    # Rejected: the report no longer pauses; confirmed without a payment yet: the report's days.
    assert {s.debtor: (s.reason, s.detail) for s in preview.skipped} == {
        "pending": ("paid", "already_paid"), "confirmed": ("paid", "already_paid")}
    assert [p.debtor for p in preview.planned] == ["rejected"]
    # Weeks later the report's days are over, the pending claim still pauses.
    env.clock.moment = datetime(2026, 12, 28, 12, 0, tzinfo=UTC)
    later = await env.cadence.preview(date(2026, 12, 28))
    assert [s.debtor for s in later.skipped if s.reason == "paid"] == ["pending"]
    assert {"rejected", "confirmed"} <= {p.debtor for p in later.planned}
