"""Sliding-window rate limits, in process or shared by every worker through Redis.

A :class:`Limit` allows ``count`` sends in any window of ``window`` seconds. A send
acquires all the limits that apply to it at once (the provider's global limit, its
smoothing sub-window and the per-chat limit) or none: :meth:`RateLimiter.try_acquire`
returns ``0`` when it took a slot in each, else how long to wait and which limit blocked.
The Redis version runs the same algorithm in one Lua script on Redis' own clock, so two
dispatcher processes share the limits exactly.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Limit:
    key: str
    count: int
    window: float  # seconds


@dataclass(frozen=True)
class Verdict:
    wait: float          # 0 when admitted
    blocked_by: str | None = None

    @property
    def admitted(self) -> bool:
        return self.wait <= 0


@dataclass(frozen=True)
class ChannelRates:
    """A provider's limits from configuration: ``global_per_second`` for the whole sender and
    ``per_chat_per_second`` for one recipient. ``margin`` widens every window by that fraction
    (and the per-chat one by at least ``chat_margin_seconds``) so network jitter between our
    decision and the provider's clock never makes us exceed the real limit."""

    global_per_second: float
    per_chat_per_second: float
    margin: float = 0.03
    chat_margin_seconds: float = 0.1

    def limits(self, scope: str, address: str) -> list[Limit]:
        window = 1.0 * (1 + self.margin)
        count = max(1, math.floor(self.global_per_second))
        if self.global_per_second < 1:
            count, window = 1, (1 / self.global_per_second) * (1 + self.margin)
        limits = [Limit(f"{scope}:global", count, window)]
        if count >= 10:
            # Smoothing: at most a tenth of the budget per tenth of the window. Bursts make the
            # provider see our sends with uneven delays (violations under CPU load); the price
            # is throughput, as every slot is reused only after its window plus our latency.
            limits.append(Limit(f"{scope}:global:smooth", math.ceil(count / 10), window / 10))
        chat_window = max((1 / self.per_chat_per_second) * (1 + self.margin),
                          1 / self.per_chat_per_second + self.chat_margin_seconds)
        limits.append(Limit(f"{scope}:chat:{address}", 1, chat_window))
        return limits


class RateLimiter(Protocol):
    async def try_acquire(self, limits: Sequence[Limit]) -> Verdict: ...


class InProcessRateLimiter:
    """Sliding-window log per key, in this process. ``clock`` is monotonic seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._log: dict[str, deque[float]] = {}

    async def try_acquire(self, limits: Sequence[Limit]) -> Verdict:
        now = self._clock()
        wait, blocked = 0.0, None
        for limit in limits:
            log = self._log.setdefault(limit.key, deque())
            while log and log[0] <= now - limit.window:
                log.popleft()
            if len(log) >= limit.count:
                needed = log[len(log) - limit.count] + limit.window - now
                if needed > wait:
                    wait, blocked = needed, limit.key
        if wait > 0:
            return Verdict(wait, blocked)
        for limit in limits:
            self._log[limit.key].append(now)
        return Verdict(0.0)


# KEYS: the limit keys; ARGV: count_1, window_us_1, count_2, window_us_2, ..., member.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local member = ARGV[#ARGV]
local wait, blocked = 0, 0
for i, key in ipairs(KEYS) do
  local count = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n >= count then
    local edge = redis.call('ZRANGE', key, n - count, n - count, 'WITHSCORES')
    local needed = tonumber(edge[2]) + window - now
    if needed > wait then wait, blocked = needed, i end
  end
end
if wait > 0 then return {0, tostring(wait), blocked} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member .. ':' .. now)
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[2 * i]) / 1000) + 1000)
end
return {1, '0', 0}
"""


class RedisRateLimiter:
    """The same sliding-window log in Redis sorted sets, atomic across processes."""

    def __init__(self, redis: Any, prefix: str = "acordo:rate:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._script = redis.register_script(_SCRIPT)

    async def try_acquire(self, limits: Sequence[Limit]) -> Verdict:
        keys = [self._prefix + limit.key for limit in limits]
        args: list[Any] = []
        for limit in limits:
            args += [limit.count, int(limit.window * 1_000_000)]
        args.append(uuid.uuid4().hex)
        admitted, wait_us, blocked = await self._script(keys=keys, args=args)
        if int(admitted):
            return Verdict(0.0)
        return Verdict(float(wait_us) / 1_000_000, limits[int(blocked) - 1].key)


def build_rate_limiter(redis_url: str | None) -> tuple[RateLimiter, Callable[[], Any] | None]:
    """The Redis limiter when ``redis_url`` is set (with a closer), else the in-process one."""
    if not redis_url:
        return InProcessRateLimiter(), None
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    return RedisRateLimiter(client), client.aclose
