"""Sliding-window limits: in process with a fake clock, and shared through the real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from bot.channels.ratelimit import ChannelRates, InProcessRateLimiter, Limit, RedisRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def test_global_limit_admits_count_per_window_then_says_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock)
    limits = [Limit("g", 3, 1.0)]
    assert all([(await limiter.try_acquire(limits)).admitted for _ in range(3)])
    verdict = await limiter.try_acquire(limits)
    assert not verdict.admitted and verdict.blocked_by == "g" and verdict.wait == pytest.approx(1.0)
    clock.t += 0.999
    assert not (await limiter.try_acquire(limits)).admitted
    clock.t += 0.002
    assert (await limiter.try_acquire(limits)).admitted


async def test_all_or_nothing_across_global_and_chat_limits() -> None:
    limiter = InProcessRateLimiter(FakeClock())

    def limits(chat: str) -> list[Limit]:
        return [Limit("g", 3, 1.0), Limit(f"chat:{chat}", 1, 1.0)]

    assert (await limiter.try_acquire(limits("a"))).admitted
    blocked = await limiter.try_acquire(limits("a"))
    assert blocked.blocked_by == "chat:a" and blocked.wait == pytest.approx(1.0)
    # the refused attempt took no global slot
    assert (await limiter.try_acquire(limits("b"))).admitted
    assert (await limiter.try_acquire(limits("c"))).admitted
    assert (await limiter.try_acquire(limits("d"))).blocked_by == "g"


def test_rates_from_configuration_widen_windows_by_the_margin() -> None:
    limits = ChannelRates(30, 1, margin=0.03).limits("telegram", "42")
    assert [(lim.key, lim.count) for lim in limits] == [
        ("telegram:global", 30), ("telegram:global:smooth", 3), ("telegram:chat:42", 1)]
    assert limits[0].window == pytest.approx(1.03) and limits[2].window == pytest.approx(1.1)
    slow = ChannelRates(0.5, 1).limits("sms", "x")
    assert slow[0].count == 1 and slow[0].window == pytest.approx(2 * 1.03)


@pytest.fixture
async def redis_limiters() -> AsyncIterator[tuple[RedisRateLimiter, RedisRateLimiter]]:
    from redis.asyncio import Redis

    first, second = Redis.from_url("redis://127.0.0.1:6379/0"), Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"acordo:test:{uuid.uuid4().hex}:"
    try:
        yield RedisRateLimiter(first, prefix), RedisRateLimiter(second, prefix)
    finally:
        await first.aclose()
        await second.aclose()


async def test_two_workers_share_limits_through_redis(
        redis_limiters: tuple[RedisRateLimiter, RedisRateLimiter]) -> None:
    one, two = redis_limiters
    limits = [Limit("g", 4, 5.0), Limit("chat:a", 1, 5.0)]
    assert (await one.try_acquire(limits)).admitted
    refused = await two.try_acquire(limits)
    assert not refused.admitted and refused.blocked_by == "chat:a" and 4.5 < refused.wait <= 5.0
    admitted = [(await (one if n % 2 else two).try_acquire([Limit("g", 4, 5.0), Limit(f"chat:{n}", 1, 5.0)]))
                .admitted for n in range(6)]
    assert admitted == [True, True, True, False, False, False]
