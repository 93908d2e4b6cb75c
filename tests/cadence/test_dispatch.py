"""Planned contacts become outbox rows; the sweep follows them (sent, fallback, pauses, expiry)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select, update

from bot.schemas import PaymentIn
from bot.storage.cadence_models import CadenceContact
from bot.storage.channel_models import OutboxMessage
from bot.storage.models import Message
from tests.cadence.conftest import MONDAY, Env, debtor

DUE_SUNDAY = date(2026, 12, 6)


async def outbox_rows(env: Env) -> list[OutboxMessage]:
    async with env.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def contacts(env: Env) -> list[CadenceContact]:
    async with env.sessions() as session:
        return list(await session.scalars(select(CadenceContact).order_by(CadenceContact.id)))


async def set_outbox(env: Env, status: str) -> None:
    async with env.sessions() as session:
        await session.execute(update(OutboxMessage).values(status=status))
        await session.commit()


async def test_planned_contacts_are_queued_once_with_the_deterministic_key(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    assert await env.cadence.materialize() == 1
    assert await env.cadence.materialize() == 0
    await env.cadence.schedule(MONDAY)  # a re-run plans nothing new
    assert await env.cadence.materialize() == 0
    [row] = await outbox_rows(env)
    [contact] = await contacts(env)
    assert row.idempotency_key == contact.idempotency_key == f"cadence:{contact.debt_id}:gentle:2:2026-12-07"
    assert (row.channel, row.address, row.initiated_by, row.template) == (
        "whatsapp",
        "+5511900000001",
        "bot",
        "overdue_first",
    )
    assert row.next_attempt_at == datetime(2026, 12, 7, 11, 0, tzinfo=UTC)  # 08:00 in São Paulo
    assert "Acme Credora Ltda" in row.text and "SAIR" in row.text
    assert contact.status == "queued" and contact.outbox_id == row.id
    async with env.sessions() as session:
        message = await session.scalar(select(Message))
        assert message is not None and message.author == "bot" and message.status == "queued"


async def test_a_step_that_offers_the_negotiation_carries_its_buttons(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", date(2026, 11, 30))], [("sms", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    [row] = await outbox_rows(env)
    assert row.template == "overdue_offer"
    assert [b["payload"] for b in row.buttons or []] == [
        "/ask_debt_details",
        "/pay_in_full",
        "/request_installments",
    ]


async def test_a_failed_channel_falls_back_to_the_next_one_of_the_step(env: Env) -> None:
    await env.load(
        debtor(
            "sp",
            [("SP-1", "1000.00", DUE_SUNDAY)],
            [("whatsapp", "+5511900000001"), ("sms", "+5511900000002")],
        )
    )
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    await set_outbox(env, "failed")
    stats = await env.cadence.sweep()
    assert stats["fell_back"] == 1
    first, second = await contacts(env)
    assert (first.status, second.status, second.channel, second.attempt) == ("fell_back", "queued", "sms", 1)
    rows = await outbox_rows(env)
    assert [r.channel for r in rows] == ["whatsapp", "sms"]
    assert rows[1].idempotency_key == first.idempotency_key + "|sms"
    # SMS fails too: nothing left to try, the step failed for good (and is not re-planned).
    async with env.sessions() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == rows[1].id).values(status="failed")
        )
        await session.commit()
    assert (await env.cadence.sweep())["failed"] == 1
    await env.cadence.schedule(MONDAY)
    assert len(await contacts(env)) == 2


async def test_sent_is_followed_from_the_outbox(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    await set_outbox(env, "delivered")
    assert (await env.cadence.sweep())["sent"] == 1
    assert [c.status for c in await contacts(env)] == ["sent"]


async def test_a_payment_takes_the_debt_out_of_the_regua_at_once(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    await env.portfolio.record_payment(
        PaymentIn.model_validate(
            {"debt_external_id": "SP-1", "amount": "1000.00", "paid_at": "2026-12-07T06:00:00-03:00"}
        )
    )
    [row] = await outbox_rows(env)
    assert row.status == "cancelled"
    assert [c.status for c in await contacts(env)] == ["cancelled"]


async def test_a_dispute_opened_after_queueing_cancels_the_reminder_in_the_sweep(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    await env.set_debt("SP-1", status="disputed")
    assert (await env.cadence.sweep())["cancelled"] == 1
    assert [r.status for r in await outbox_rows(env)] == ["cancelled"]


async def test_a_contact_not_sent_in_its_window_expires_and_is_planned_the_next_day(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    env.clock.moment = datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # 20:00: the window closed, no worker ran
    assert (await env.cadence.sweep())["expired"] == 1
    assert [r.status for r in await outbox_rows(env)] == ["cancelled"]
    env.clock.moment = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    await env.cadence.schedule(date(2026, 12, 8))
    await env.cadence.materialize()
    rows = await outbox_rows(env)
    assert [r.status for r in rows] == ["cancelled", "pending"]
    assert rows[1].idempotency_key.endswith(":2026-12-08")


async def test_a_reminder_withdrawn_at_its_window_end_is_planned_the_next_day(env: Env) -> None:
    """The outbox row carries the window's end; a dispatcher holding it past that moment
    withdraws it (``outside_hours``) and the sweep expires the contact, so the next allowed
    day plans it again (a cancelled one never would be)."""
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    [row] = await outbox_rows(env)
    assert row.not_after == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)  # 20:00 in São Paulo
    async with env.sessions() as session:  # what the dispatcher does with a row claimed too long
        await session.execute(update(OutboxMessage).values(status="cancelled", last_error="outside_hours"))
        await session.commit()
    env.clock.moment = datetime(2026, 12, 7, 23, 5, tzinfo=UTC)
    assert (await env.cadence.sweep())["expired"] == 1
    assert [c.status for c in await contacts(env)] == ["expired"]
    env.clock.moment = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
    assert [p.debt for p in (await env.cadence.preview(date(2026, 12, 8))).planned] == ["SP-1"]


async def test_a_person_taking_the_conversation_cancels_the_queued_reminder(env: Env) -> None:
    await env.load(debtor("sp", [("SP-1", "1000.00", DUE_SUNDAY)], [("whatsapp", "+5511900000001")]))
    await env.cadence.schedule(MONDAY)
    await env.cadence.materialize()
    from bot.storage.models import Conversation

    async with env.sessions() as session:
        await session.execute(update(Conversation).values(state="human"))
        await session.commit()
    assert (await env.cadence.sweep())["cancelled"] == 1


async def test_a_web_reminder_is_stored_in_the_chat_only_at_its_moment(env: Env) -> None:
    """The web chat shows a message as soon as it is stored (no outbox to hold it back), so a
    web reminder planned for 08:00 is not stored at 05:00."""
    await env.load(debtor("web", [("W-1", "1000.00", DUE_SUNDAY)], [("web", "financeiro@web.com.br")]))
    await env.cadence.schedule(MONDAY)
    [planned] = await contacts(env)
    assert (planned.channel, planned.at) == ("web", datetime(2026, 12, 7, 11, 0, tzinfo=UTC))
    assert env.clock.now() < planned.at
    assert await env.cadence.materialize() == 0
    async with env.sessions() as session:
        assert list(await session.scalars(select(Message))) == []
    env.clock.moment = planned.at
    assert await env.cadence.materialize() == 1
    [contact] = await contacts(env)
    assert contact.status == "sent" and await outbox_rows(env) == []
    async with env.sessions() as session:
        [message] = list(await session.scalars(select(Message)))
    assert (message.channel, message.template, message.author) == ("web", "overdue_first", "bot")
