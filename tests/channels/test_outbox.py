"""The outbox dispatcher: order, limits, retries with one idempotency key, terminal errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import (
    MediaRef,
    MediaSpec,
    OutboundMessage,
    RetryLater,
    SendReceipt,
    Undeliverable,
    fits_caption,
)
from bot.channels.fake import FakeChannel
from bot.channels.ratelimit import ChannelRates, InProcessRateLimiter
from bot.channels.telegram import TelegramChannel, build_bot
from bot.clock import RunningClock, SteppingClock
from bot.devtools.emulators.observed import Faults
from bot.devtools.emulators.telegram import TelegramEmulator
from bot.payments.qr import qr_png
from bot.services.opt_out import suppress_contact
from bot.services.outbox.dispatcher import OutboxDispatcher, OutboxStalled
from bot.services.outbox.queue import Outbox
from bot.storage import create_engine, migrate, session_factory
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage
from bot.storage.repositories.audit import AuditLog
from bot.storage.repositories.portfolio import PortfolioRepository
from bot.storage.uow import unit_of_work
from tests.storage.conftest import _empty_tables, create_postgres_database, drop_postgres_database


class TimedFake(FakeChannel):
    def __init__(self, name: str, time: SteppingClock) -> None:
        super().__init__(name)
        self.time = time
        self.at: list[tuple[str, str, datetime]] = []

    async def send(self, message: OutboundMessage) -> SendReceipt:
        self.at.append((message.address, message.text, self.time.now()))
        return await super().send(message)


@pytest.fixture(scope="module")
async def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('outbox') / 'acordo.db'}"
    await migrate(url)
    return url


@pytest.fixture
def time() -> SteppingClock:
    """The test's clock: rows are stamped with it and the dispatcher's sleeps advance it."""
    return SteppingClock(datetime(2026, 11, 26, 13, 0, tzinfo=UTC))


@pytest.fixture
async def sessions(sqlite_file: str, time: SteppingClock) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_file, clock=time)
    yield session_factory(engine)
    await _empty_tables(engine)
    await engine.dispose()


def dispatcher(sessions: async_sessionmaker[AsyncSession], channel: FakeChannel, time: Any,
               **options: Any) -> OutboxDispatcher:
    limiter = InProcessRateLimiter(time.monotonic)
    return OutboxDispatcher(unit_of_work(sessions), {channel.name: channel}, limiter,
                            {channel.name: ChannelRates(30, 1, margin=0.0, chat_margin_seconds=0.1)},
                            clock=time, sleep=time.sleep, monotonic=time.monotonic, backoff_base=1.0,
                            **options)


async def contact(sessions: async_sessionmaker[AsyncSession], channel: str, address: str,
                  name: str = "Rita Alves") -> int:
    async with sessions() as session:
        repo = PortfolioRepository(session)
        await repo.upsert_creditor("demo", "Demo", "11.222.333/0001-81")
        debtor = await repo.upsert_debtor("demo", "acme", "Acme", None, "America/Sao_Paulo", "pt-BR")
        row = await repo.upsert_contact(debtor, name, channel, address)
        await session.commit()
        return row.id


async def test_each_chat_in_order_and_at_most_one_per_second(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    for n in range(3):
        for chat in ("a", "b"):
            await outbox.enqueue(channel="telegram", address=chat, text=f"{chat}{n}",
                                 idempotency_key=f"{chat}{n}")
    await dispatcher(sessions, channel, time).run_until_idle()
    for chat in ("a", "b"):
        sends = [(text, at) for address, text, at in channel.at if address == chat]
        assert [text for text, _ in sends] == [f"{chat}0", f"{chat}1", f"{chat}2"]
        gaps = [(b - a).total_seconds() for (_, a), (_, b) in zip(sends, sends[1:], strict=False)]
        assert all(gap >= 1.1 for gap in gaps), gaps
    async with sessions() as session:
        assert set(await session.scalars(select(OutboxMessage.status))) == {"sent"}


async def test_sends_go_at_their_booked_slots_and_a_late_wake_up_books_a_new_one(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    late = [0.05]  # the second send's sleep overshoots by 50 ms once (CPU starvation)

    async def sleep(seconds: float) -> None:
        await time.sleep(seconds + (late.pop() if late and seconds < 0.1 else 0.0))

    for chat in ("a", "b", "c"):
        await outbox.enqueue(channel="telegram", address=chat, text=chat, idempotency_key=chat)
    limiter = InProcessRateLimiter(time.monotonic)
    real = OutboxDispatcher(unit_of_work(sessions), {"telegram": channel}, limiter,
                            {"telegram": ChannelRates(10, 1, margin=0.0)}, clock=time, sleep=sleep,
                            monotonic=time.monotonic,
                            late_tolerance=0.02)
    await real.run_until_idle()
    assert real.stats["rebooked"] == 1 and sorted(m.text for m in channel.attempts) == ["a", "b", "c"]
    times = sorted(at for _, _, at in channel.at)
    assert all((b - a).total_seconds() >= 0.1 for a, b in zip(times, times[1:], strict=False))


async def test_retry_after_is_honoured_with_the_same_key(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    channel.fail_next(RetryLater("429", retry_after=3))
    await outbox.enqueue(channel="telegram", address="a", text="hi", idempotency_key="k1")
    await outbox.enqueue(channel="telegram", address="a", text="second", idempotency_key="k2")
    sender = dispatcher(sessions, channel, time)
    deferred: list[tuple[str, float]] = []
    limiter = sender._limiter
    original = limiter.defer

    async def defer(key: str, seconds: float) -> None:
        deferred.append((key, seconds))
        await original(key, seconds)

    limiter.defer = defer  # type: ignore[method-assign]
    await sender.run_until_idle()
    assert deferred == [("telegram:chat:a", 3)]  # every dispatcher holds that chat back
    assert [m.idempotency_key for m in channel.attempts] == ["k1", "k1", "k2"]
    first, retry = channel.at[0][2], channel.at[1][2]
    assert (retry - first).total_seconds() >= 3
    assert [m.text for m in channel.sent] == ["hi", "second"]  # the retried message kept its place


async def test_server_errors_back_off_then_give_up(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    channel.fail_next(*[RetryLater("502") for _ in range(4)])
    await outbox.enqueue(channel="telegram", address="a", text="hi", idempotency_key="k1")
    await dispatcher(sessions, channel, time, max_attempts=4).run_until_idle()
    times = [at for _, _, at in channel.at]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert len(times) == 4 and gaps[0] >= 0.5 and gaps[2] >= 2.0  # 1 s, 2 s, 4 s with ±50% jitter
    async with sessions() as session:
        row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == "failed" and "gave up after 4" in (row.last_error or "")


async def test_terminal_error_marks_the_contact_unreachable_and_audits(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    contact_id = await contact(sessions, "telegram", "77")
    channel.fail_next(Undeliverable("telegram 403: blocked", unreachable=True))
    for n in range(2):
        await outbox.enqueue(channel="telegram", address="77", text=f"m{n}", idempotency_key=f"k{n}",
                             contact_id=contact_id)
    await dispatcher(sessions, channel, time).run_until_idle()
    assert len(channel.attempts) == 1  # the rest for that chat is not even tried
    async with sessions() as session:
        row = await session.get(db.Contact, contact_id)
        events = await AuditLog(session).for_debtor(row.debtor_id if row else 0)
        statuses = list(await session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))
    assert row is not None and row.status == "unreachable"
    assert [e.kind for e in events] == ["contact_unreachable"] and statuses == ["failed", "failed"]


async def test_opt_out_cancels_bot_initiated_messages_on_every_channel(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    on_telegram = await contact(sessions, "telegram", "77")
    on_sms = await contact(sessions, "sms", "+5511999990002")
    other_person = await contact(sessions, "telegram", "88", name="Bruno Lima")
    for key, address, contact_id in (("t", "77", on_telegram), ("b", "88", other_person)):
        await outbox.enqueue(channel="telegram", address=address, text="lembrete", idempotency_key=key,
                             contact_id=contact_id, initiated_by="bot")
    async with sessions() as session:
        sms = await session.get(db.Contact, on_sms)
        assert sms is not None
        assert await suppress_contact(session, sms, actor="bot", text="PARAR")
        assert not await suppress_contact(session, sms, actor="bot", text="PARAR")  # once
        await session.commit()
    await dispatcher(sessions, channel, time).run_until_idle()
    assert [m.address for m in channel.sent] == ["88"]
    async with sessions() as session:
        statuses = dict((await session.execute(select(db.Contact.address, db.Contact.status))).all())
        events = [e for e in await AuditLog(session).for_debtor(sms.debtor_id) if e.kind == "opted_out"]
    assert statuses == {"77": "opted_out", "+5511999990002": "opted_out", "88": "active"}
    assert len(events) == 1 and events[0].at is not None
    assert {c["channel"] for c in events[0].data["contacts"]} == {"telegram", "sms"}


async def test_a_timeout_is_retried_without_a_duplicate(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    emulator = TelegramEmulator(faults=Faults(timeout_delay=2.5))
    await emulator.start()
    bot = build_bot(emulator.token, emulator.base_url, timeout=1)
    try:
        emulator.scripted.append("timeout")
        await Outbox(unit_of_work(sessions)).enqueue(channel="telegram", address="1001", text="olá",
                                                     idempotency_key="k1")
        limiter = InProcessRateLimiter()
        real = OutboxDispatcher(unit_of_work(sessions), {"telegram": TelegramChannel(bot, 1)}, limiter,
                                {"telegram": ChannelRates(30, 1)}, clock=RunningClock(time.now()),
                                backoff_base=0.01)
        await real.run_until_idle()
        assert [r.outcome for r in emulator.sends()] == ["timeout", "duplicate"]
        assert len(emulator.deliveries) == 1 and {r.key for r in emulator.sends()} == {"k1"}
    finally:
        await bot.session.close()
        await emulator.stop()


@pytest.mark.postgres
async def test_two_dispatchers_on_postgresql_send_everything_once(tmp_path: Path) -> None:
    url = await create_postgres_database()
    try:
        await migrate(url)
        clock = RunningClock(datetime(2026, 11, 26, 13, 0, tzinfo=UTC))
        engine = create_engine(url, clock=clock)
        sessions = session_factory(engine)
        outbox = Outbox(unit_of_work(sessions))
        for n in range(60):
            await outbox.enqueue(channel="telegram", address=f"c{n % 20}", text=f"m{n}",
                                 idempotency_key=f"k{n}")
        channel = FakeChannel("telegram")
        limiter = InProcessRateLimiter()
        pair = [OutboxDispatcher(unit_of_work(sessions), {"telegram": channel}, limiter,
                                 {"telegram": ChannelRates(1000, 1000)}, clock=clock, batch=10)
                for _ in range(2)]
        await asyncio.gather(*(d.run_until_idle() for d in pair))
        assert sorted(m.idempotency_key for m in channel.attempts) == sorted(f"k{n}" for n in range(60))
        by_chat: dict[str, list[int]] = {}
        for message in channel.attempts:
            by_chat.setdefault(message.address, []).append(int(message.text[1:]))
        assert all(numbers == sorted(numbers) for numbers in by_chat.values())
        await engine.dispose()
    finally:
        await drop_postgres_database(url)


class Pictures:
    """A MediaResolver over a dict: ref -> PNG bytes (missing refs are gone)."""

    def __init__(self, pngs: dict[str, bytes]) -> None:
        self.pngs = pngs
        self.resolved: list[MediaRef] = []

    async def resolve(self, media: MediaRef) -> MediaSpec | None:
        self.resolved.append(media)
        png = self.pngs.get(media.ref)
        return None if png is None else MediaSpec(f"pix-{media.ref}.png", png, f"https://x/pay/{media.ref}.png")


async def test_a_text_too_long_for_a_caption_follows_its_picture_in_a_row_of_its_own(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    emulator = TelegramEmulator()
    await emulator.start()
    bot = build_bot(emulator.token, emulator.base_url, timeout=2)
    png = qr_png("000201-long")
    long_text = "Como pagar cada parcela:\n" + "\n".join(f"{n}ª parcela: 000201..." * 3 for n in range(30))
    assert not fits_caption(long_text)
    try:
        outbox = Outbox(unit_of_work(sessions))
        await outbox.enqueue(channel="telegram", address="1001", text=long_text, idempotency_key="long",
                             media=MediaRef("pix_qr", "AC1"))
        await outbox.enqueue(channel="telegram", address="1001", text="curta", idempotency_key="short",
                             media=MediaRef("pix_qr", "AC1"))
        async with sessions() as session:
            rows = [(r.idempotency_key, r.text == "", r.media_ref) for r in
                    await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert rows == [("long:picture", True, "AC1"), ("long", False, None), ("short", False, "AC1")]
        real = OutboxDispatcher(unit_of_work(sessions), {"telegram": TelegramChannel(bot, 2)},
                                InProcessRateLimiter(),
                                {"telegram": ChannelRates(30, 20)}, clock=RunningClock(time.now()),
                                media=Pictures({"AC1": png}))
        await real.run_until_idle()
        sends = emulator.sends()
        assert [(r.method, r.key) for r in sends] == [
            ("sendPhoto", "long:picture"), ("sendMessage", "long"), ("sendPhoto", "short")]
        picture, text, captioned = emulator.deliveries
        assert picture.media == (png,) and picture.text == "" and "caption" not in picture.params
        assert text.text == long_text and text.media == ()
        assert captioned.media == (png,) and captioned.text == "curta"
    finally:
        await bot.session.close()
        await emulator.stop()


async def test_a_picture_that_is_gone_leaves_the_text_or_cancels_a_picture_alone(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    await outbox.enqueue(channel="telegram", address="a", text="x" * 2000, idempotency_key="long",
                         media=MediaRef("pix_qr", "GONE"))
    await outbox.enqueue(channel="telegram", address="b", text="curta", idempotency_key="short",
                         media=MediaRef("pix_qr", "GONE"))
    await dispatcher(sessions, channel, time, media=Pictures({})).run_until_idle()
    assert sorted((m.idempotency_key, m.media) for m in channel.sent) == [("long", None), ("short", None)]
    async with sessions() as session:
        statuses = dict((await session.execute(
            select(OutboxMessage.idempotency_key, OutboxMessage.status))).all())
    assert statuses == {"long:picture": "cancelled", "long": "sent", "short": "sent"}


async def test_a_send_delayed_by_the_limits_calls_the_wait_hook(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = FakeChannel("telegram")
    for chat in ("a", "b", "c"):
        await outbox.enqueue(channel="telegram", address=chat, text=chat, idempotency_key=chat)
    waits: list[tuple[str, float]] = []
    tiny = OutboxDispatcher(unit_of_work(sessions), {"telegram": channel}, InProcessRateLimiter(),
                            {"telegram": ChannelRates(20, 1, margin=0.0)},  # one send every 50 ms
                            clock=RunningClock(time.now()), late_tolerance=None,
                            on_rate_limit_wait=lambda c, s: waits.append((c, s)))
    await tiny.run_until_idle()
    assert len(channel.sent) == 3
    # The first send had its slot at once; the next two waited one and two intervals for theirs
    # (counted from their claim, so a little more).
    assert [c for c, _ in waits] == ["telegram", "telegram"]
    assert 0.05 <= waits[0][1] < 0.5 and 0.1 <= waits[1][1] < 0.6, waits


def paragraphs(count: int, width: int = 300) -> str:
    return "\n\n".join(f"{n}ª parcela: " + "x" * width for n in range(1, count + 1))


async def test_a_text_longer_than_one_send_is_queued_one_row_per_part(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    """Telegram 4,096 UTF-16 units, WhatsApp 1,600 characters: each part its own row (its own
    rate-limited send), the last under the message's key with the buttons, template and
    conversation message; SMS and texts within the limit stay one row."""
    outbox = Outbox(unit_of_work(sessions))
    telegram_text, whatsapp_text = paragraphs(30), paragraphs(12)
    for channel, text in (("telegram", telegram_text), ("whatsapp", whatsapp_text), ("sms", whatsapp_text)):
        await outbox.enqueue(channel=channel, address="+5511999990000", text=text, idempotency_key=channel,
                             buttons=[{"title": "Já paguei", "payload": "/paid"}],
                             template="payment_instructions", template_vars={"n": 1})
    await outbox.enqueue(channel="telegram", address="+5511999990000", text="curta", idempotency_key="short")
    async with sessions() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    keys = [r.idempotency_key for r in rows]
    assert len(telegram_text) > 2 * 4096 and len(whatsapp_text) > 2 * 1600
    assert keys == ["telegram:part1", "telegram:part2", "telegram",
                    "whatsapp:part1", "whatsapp:part2", "whatsapp", "sms", "short"]
    by_key = {r.idempotency_key: r for r in rows}
    for channel, text, limit in (("telegram", telegram_text, 4096), ("whatsapp", whatsapp_text, 1600)):
        parts = [r for r in rows if r.channel == channel and r.idempotency_key != "short"]
        assert all(len(r.text) <= limit for r in parts)
        assert "".join(r.text for r in parts).replace("\n", "") == text.replace("\n", "")
        assert [(r.buttons is not None, r.template) for r in parts] == [
            (False, None)] * (len(parts) - 1) + [(True, "payment_instructions")]
    assert by_key["sms"].text == whatsapp_text  # SMS is shortened to its segments by the channel
    channel = TimedFake("telegram", time)
    await dispatcher(sessions, channel, time).run_until_idle()
    assert [m.idempotency_key for m in channel.sent] == [
        "telegram:part1", "telegram:part2", "telegram", "short"]
    sends = [at for address, _, at in channel.at]
    assert all((b - a).total_seconds() >= 1 for a, b in zip(sends, sends[1:], strict=False))  # one chat


async def test_a_failed_part_is_retried_alone_and_no_earlier_part_goes_twice(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    channel.fail_next(RetryLater("telegram 429", retry_after=2))
    await outbox.enqueue(channel="telegram", address="a", text=paragraphs(20), idempotency_key="pix")
    sender = dispatcher(sessions, channel, time)
    await sender.run_until_idle()
    assert [m.idempotency_key for m in channel.attempts] == ["pix:part1", "pix:part1", "pix"]
    assert [m.idempotency_key for m in channel.sent] == ["pix:part1", "pix"]
    await outbox.enqueue(channel="telegram", address="b", text=paragraphs(30), idempotency_key="pix2")
    sender = dispatcher(sessions, channel, time)
    real_send = channel.send

    async def fail_second_part(message: OutboundMessage) -> SendReceipt:
        if message.idempotency_key == "pix2:part2" and not any(
                m.idempotency_key == "pix2:part2" for m in channel.attempts):
            channel.fail_next(RetryLater("telegram 502"))
        return await real_send(message)

    channel.send = fail_second_part  # type: ignore[method-assign]
    await sender.run_until_idle()
    assert [m.idempotency_key for m in channel.attempts[3:]] == [
        "pix2:part1", "pix2:part2", "pix2:part2", "pix2"]  # part 1 went once


async def test_waiting_for_a_row_due_too_far_ahead_is_a_named_failure_not_a_hang(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    """A row stamped by another clock (days ahead of the dispatcher's) would make
    run_until_idle sleep for days: it raises instead, naming the row it was waiting for."""
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    await outbox.enqueue(channel="telegram", address="a", text="now", idempotency_key="now")
    later = await outbox.enqueue(channel="telegram", address="b", text="later", idempotency_key="later",
                                 not_before=time.now() + timedelta(days=11))
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        await time.sleep(seconds)

    stuck = OutboxDispatcher(unit_of_work(sessions), {"telegram": channel},
                             InProcessRateLimiter(time.monotonic),
                             {"telegram": ChannelRates(30, 1)}, clock=time, sleep=sleep,
                             monotonic=time.monotonic)
    with pytest.raises(OutboxStalled, match=rf"outbox row {later} \(telegram 'b', key 'later'") as raised:
        await stuck.run_until_idle(max_wait=600)
    assert raised.value.row_id == later
    assert [m.text for m in channel.sent] == ["now"] and all(s <= 600 for s in sleeps)


async def test_a_bot_contact_is_never_sent_at_or_after_its_window_end(
        sessions: async_sessionmaker[AsyncSession], time: SteppingClock) -> None:
    """A reminder whose turn comes (behind its chat's earlier messages, one a second) after its
    contact window closed is withdrawn as ``outside_hours``, not sent late; one whose turn
    comes in time goes."""
    outbox = Outbox(unit_of_work(sessions))
    channel = TimedFake("telegram", time)
    start = time.now()
    for n in range(3):
        await outbox.enqueue(channel="telegram", address="late", text=f"reply{n}", idempotency_key=f"r{n}")
    await outbox.enqueue(channel="telegram", address="late", text="reminder", idempotency_key="late",
                         initiated_by="bot", not_after=start + timedelta(seconds=2))
    await outbox.enqueue(channel="telegram", address="early", text="in time", idempotency_key="early",
                         initiated_by="bot", not_after=start + timedelta(seconds=2))
    await dispatcher(sessions, channel, time).run_until_idle()
    assert [text for _, text, _ in channel.at] == ["reply0", "in time", "reply1", "reply2"]
    assert all(at < start + timedelta(seconds=2) for _, text, at in channel.at if text == "in time")
    async with sessions() as session:
        late = await session.scalar(select(OutboxMessage).where(OutboxMessage.idempotency_key == "late"))
        assert late is not None and (late.status, late.last_error) == ("cancelled", "outside_hours")
