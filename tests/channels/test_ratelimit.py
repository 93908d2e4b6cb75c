"""Booked send times (GCRA): in process with a fake clock, and shared through the real Redis."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.channels.ratelimit import Booking, ChannelRates, InProcessRateLimiter, Limit, RedisRateLimiter
from bot.devtools.emulators.observed import Observed, Request
from tests.support.requirements import need, redis_url


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_bookings_are_spaced_exactly_by_the_interval_up_to_the_horizon() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock)
    g = [Limit("g", 0.1)]
    delays = [(await limiter.book(g, horizon=0.35)).delay for _ in range(4)]
    assert delays == pytest.approx([0.0, 0.1, 0.2, 0.3])
    refused = await limiter.book(g, horizon=0.35)  # the next slot (0.4) is beyond the horizon
    assert refused == Booking(False, pytest.approx(0.05), "g")
    clock.t += 0.05
    assert await limiter.book(g, horizon=0.35) == Booking(True, pytest.approx(0.35))
    # Idle time earns no burst: after a pause the slots are again one interval apart.
    clock.t += 10
    assert [(await limiter.book(g, horizon=1)).delay for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])


async def test_without_a_horizon_only_a_due_slot_is_booked() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock)
    g = [Limit("g", 0.5)]
    assert (await limiter.book(g)).booked
    assert await limiter.book(g) == Booking(False, pytest.approx(0.5), "g")
    clock.t += 0.5
    assert await limiter.book(g) == Booking(True, 0.0)


async def test_a_busy_chat_is_refused_without_taking_a_global_slot() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock)

    def limits(chat: str) -> list[Limit]:
        return [Limit("g", 0.1), Limit(f"chat:{chat}", 1.0)]

    assert await limiter.book(limits("a"), horizon=2) == Booking(True, 0.0)
    # "a" is busy until 1.0: nothing is booked (no hole left in the global schedule) ...
    assert await limiter.book(limits("a"), horizon=2) == Booking(False, pytest.approx(1.0), "chat:a")
    # ... so the next global slot goes to another chat.
    assert (await limiter.book(limits("b"), horizon=2)).delay == pytest.approx(0.1)
    assert (await limiter.book(limits("c"), horizon=2)).delay == pytest.approx(0.2)
    clock.t += 1.0
    assert await limiter.book(limits("a"), horizon=2) == Booking(True, 0.0)
    assert await limiter.book(limits("a"), horizon=2) == Booking(False, pytest.approx(1.0), "chat:a")


async def test_per_chat_spacing_holds_when_the_global_slot_comes_later() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock)
    booked = []
    for _ in range(3):
        for chat in ("a", "b", "c"):
            booking = await limiter.book([Limit("g", 0.5), Limit(f"chat:{chat}", 1.2)], horizon=10)
            if booking.booked:
                booked.append((chat, clock.t + booking.delay))
            else:
                clock.t += booking.delay
    for chat in ("a", "b", "c"):
        times = [at for c, at in booked if c == chat]
        assert all(b - a >= 1.2 - 1e-9 for a, b in zip(times, times[1:], strict=False))
    times = sorted(at for _, at in booked)
    assert [round(b - a, 6) for a, b in zip(times, times[1:], strict=False)] == [0.5] * (len(times) - 1)


async def test_defer_holds_a_chat_back_for_retry_after() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock)
    chat = [Limit("g", 0.1), Limit("chat:a", 1.0)]
    assert (await limiter.book(chat)).booked
    await limiter.defer("chat:a", 3)
    clock.t += 1.5
    assert await limiter.book(chat, horizon=5) == Booking(False, pytest.approx(1.5), "chat:a")
    clock.t += 1.5
    assert (await limiter.book(chat)).booked
    await limiter.defer("chat:a", 0.1)  # never brings a later slot forward
    assert await limiter.book(chat, horizon=5) == Booking(False, pytest.approx(1.0), "chat:a")


def test_rates_from_configuration_widen_intervals_by_the_margin() -> None:
    rates = ChannelRates(30, 1, margin=0.03)
    assert [(lim.key, lim.interval) for lim in rates.limits("telegram", "42")] == [
        ("telegram:global", pytest.approx(1.03 / 30)), ("telegram:chat:42", pytest.approx(1.1))]
    assert ChannelRates(0.5, 2, margin=0.05).limits("sms", "x")[0].interval == pytest.approx(2.1)
    assert ChannelRates(80, 1, margin=0.2).chat_interval == pytest.approx(1.2)


async def test_a_broadcast_booked_on_a_fake_clock_is_within_telegram_limits_at_full_rate() -> None:
    """3,000 sends to 600 chats, each sent at its booked instant: the emulator's own check sees
    no violation, and the rate is the limit divided by (1 + margin)."""
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock)
    rates = ChannelRates(30, 1, margin=0.03)
    observed = Observed()
    heads = [(k, str(100_000 + k)) for k in range(600)]  # (outbox id, chat): each chat's oldest
    ready: dict[str, float] = {}
    while heads:
        for n, (row, chat) in enumerate(heads):
            if ready.get(chat, 0.0) > clock.t:
                continue
            booking = await limiter.book(rates.limits("telegram", chat), horizon=1.0)
            if booking.booked:
                observed.requests.append(Request(clock.t + booking.delay, "sendMessage", chat, None, "ok"))
                heads.pop(n)
                if row + 600 < 3000:
                    heads.append((row + 600, chat))
                    heads.sort()
                break
            if booking.blocked_by == "telegram:global":
                clock.t += booking.delay
                break
            ready[chat] = clock.t + booking.delay
        else:
            clock.t = min(ready[chat] for _, chat in heads)
    report = observed.report(30, 1)
    assert report["violations"] == {"global": 0, "per_chat": 0}
    assert report["sustained_request_rate"] == pytest.approx(30 / 1.03, rel=1e-6)
    arrivals = sorted(r.at for r in observed.requests)
    assert min(b - a for a, b in zip(arrivals, arrivals[30:], strict=False)) == pytest.approx(1.03)


@pytest.fixture
async def redis_limiters() -> AsyncIterator[tuple[RedisRateLimiter, RedisRateLimiter]]:
    from redis.asyncio import Redis

    need("redis")
    first, second = Redis.from_url(redis_url()), Redis.from_url(redis_url())
    prefix = f"acordo:test:{uuid.uuid4().hex}:"
    try:
        yield RedisRateLimiter(first, prefix), RedisRateLimiter(second, prefix)
    finally:
        keys = [key async for key in first.scan_iter(match=f"{prefix}*")]
        if keys:
            await first.delete(*keys)
        await first.aclose()
        await second.aclose()


async def test_two_limiters_share_one_schedule_through_redis(
        redis_limiters: tuple[RedisRateLimiter, RedisRateLimiter]) -> None:
    """Intervals of seconds, so the milliseconds the calls take do not matter."""
    one, two = redis_limiters

    def limits(chat: str) -> list[Limit]:
        return [Limit("g", 2.0), Limit(f"chat:{chat}", 10.0)]

    planned = []
    for n in range(4):  # alternating processes, each booking the next global slot
        booking = await (one if n % 2 else two).book(limits(str(n)), horizon=7)
        assert booking.booked
        planned.append(time.monotonic() + booking.delay)
    assert [round(b - a, 1) for a, b in zip(planned, planned[1:], strict=False)] == [2.0, 2.0, 2.0]
    refused = await one.book(limits("x"), horizon=7)  # the slot at +8 s is beyond the horizon
    assert not refused.booked and refused.blocked_by == "g" and 0.9 < refused.delay <= 1.0
    # Chat "0" was booked by the second limiter: the first one sees it busy for 10 s.
    busy = await one.book(limits("0"), horizon=60)
    assert not busy.booked and busy.blocked_by == "chat:0" and 9.5 < busy.delay <= 10.0
    await two.defer("chat:9", 30)
    deferred = await one.book(limits("9"), horizon=60)
    assert not deferred.booked and deferred.blocked_by == "chat:9" and 29.5 < deferred.delay <= 30.0


async def test_concurrent_bookings_through_redis_never_share_a_slot(
        redis_limiters: tuple[RedisRateLimiter, RedisRateLimiter]) -> None:
    import asyncio

    one, two = redis_limiters
    g = [Limit("g", 0.5)]
    bookings = await asyncio.gather(*((one if n % 2 else two).book(g, horizon=30) for n in range(20)))
    planned = sorted(time.monotonic() + b.delay for b in bookings)
    assert all(b.booked for b in bookings)
    assert all(0.45 < b - a < 0.55 for a, b in zip(planned, planned[1:], strict=False))
