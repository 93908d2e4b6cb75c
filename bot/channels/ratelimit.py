"""Rate limits that book future send times (GCRA / virtual scheduling), in process or in Redis.

A :class:`Limit` is a key and an *emission interval*: sends on that key are at least
``interval`` seconds apart. Each key keeps a theoretical arrival time (TAT): the earliest
moment its next send may go. :meth:`RateLimiter.book` takes every limit of one send at once
(the provider's global limit first, then the chat's):

* the send is planned at ``at = max(now, TAT[first])`` — the next free slot of the pacing
  (global) limit;
* if another key (the chat) is not free by then, nothing is booked and the answer says how
  long until it is (``blocked_by`` that key), so a busy chat never leaves a hole in the
  global schedule;
* if ``at`` is more than ``horizon`` seconds away, nothing is booked either (the caller
  asks again when the slot comes within reach: bounded look-ahead);
* otherwise every key's TAT becomes ``at + interval`` and the answer is the delay until
  ``at``. The caller sleeps until then and sends.

The intervals are exact and there is no burst allowance, so any ``n + 1`` sends on a key
span at least ``n * interval``: with ``interval = (1 + margin) / rate`` the provider sees at
most ``rate`` sends in any second even when each send reaches it up to
``n * interval - 1`` seconds late relative to another. Throughput is the full
``rate / (1 + margin)`` however slow the caller is, because slots are booked ahead rather
than reused after the previous send's round trip.

:meth:`RateLimiter.defer` pushes one key's TAT to ``now + seconds`` (Telegram's
``retry_after`` for that chat). The Redis version runs the same algorithm in one Lua script
on Redis' clock, so every dispatcher process shares one schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Limit:
    key: str
    interval: float  # seconds between two sends on this key


@dataclass(frozen=True)
class Booking:
    """``booked``: send in ``delay`` seconds (from when :meth:`RateLimiter.book` returned).
    Refused: ask again in ``delay`` seconds; ``blocked_by`` is the limit in the way."""

    booked: bool
    delay: float
    blocked_by: str | None = None


@dataclass(frozen=True)
class ChannelRates:
    """A provider's limits from configuration: ``global_per_second`` for the whole sender and
    ``per_chat_per_second`` for one recipient. Each interval is widened by ``margin`` (and the
    per-chat one by at least ``chat_margin_seconds``): the slack the schedule leaves for the
    delay between our planned send time and the provider's clock to vary from send to send."""

    global_per_second: float
    per_chat_per_second: float
    margin: float = 0.03
    chat_margin_seconds: float = 0.1

    @property
    def global_interval(self) -> float:
        return (1 + self.margin) / self.global_per_second

    @property
    def chat_interval(self) -> float:
        base = 1 / self.per_chat_per_second
        return max(base * (1 + self.margin), base + self.chat_margin_seconds)

    def limits(self, scope: str, address: str) -> list[Limit]:
        """The global (pacing) limit first, then the chat's."""
        return [Limit(f"{scope}:global", self.global_interval), self.chat_limit(scope, address)]

    def chat_limit(self, scope: str, address: str) -> Limit:
        return Limit(f"{scope}:chat:{address}", self.chat_interval)


@dataclass(frozen=True)
class EmailRates(ChannelRates):
    """E-mail: the sending domain's cap (``global_per_second``, keyed by that domain so every
    sender of the domain shares it), then each receiving domain's (mail servers throttle
    a sender that floods one domain), then the address'."""

    sender_domain: str = ""
    per_domain_per_second: float = 1.0

    @property
    def domain_interval(self) -> float:
        return (1 + self.margin) / self.per_domain_per_second

    def limits(self, scope: str, address: str) -> list[Limit]:
        receiving = address.rpartition("@")[2].lower()
        return [Limit(f"{scope}:from:{self.sender_domain}", self.global_interval),
                Limit(f"{scope}:to:{receiving}", self.domain_interval),
                self.chat_limit(scope, address)]


class RateLimiter(Protocol):
    async def book(self, limits: Sequence[Limit], horizon: float = 0.0) -> Booking: ...

    async def defer(self, key: str, seconds: float) -> None: ...


_EPSILON = 1e-6  # float noise in seconds; Redis works in integer microseconds


class InProcessRateLimiter:
    """TATs in a dict, in this process. ``clock`` is seconds (monotonic by default)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tat: dict[str, float] = {}

    async def book(self, limits: Sequence[Limit], horizon: float = 0.0) -> Booking:
        now = self._clock()
        tat = self._tat
        at = max(now, tat.get(limits[0].key, now))
        wait, blocked = 0.0, None
        for limit in limits[1:]:
            other = tat.get(limit.key, now)
            if other > at + _EPSILON and other - now > wait:
                wait, blocked = other - now, limit.key
        if blocked is None and at - now > horizon + _EPSILON:
            wait, blocked = at - now - horizon, limits[0].key
        if blocked is not None:
            return Booking(False, wait, blocked)
        for limit in limits:
            tat[limit.key] = at + limit.interval
        if len(tat) > 10_000:
            self._tat = {key: value for key, value in tat.items() if value > now}
        return Booking(True, at - now)

    async def defer(self, key: str, seconds: float) -> None:
        now = self._clock()
        self._tat[key] = max(self._tat.get(key, now), now + seconds)


# Times are integer microseconds on Redis' clock; a missing key is free (TAT in the past).
# KEYS: the limit keys, pacing one first. ARGV: interval_us per key, then horizon_us.
# Returns {booked, planned_us, wait_us, blocked_index, now_us}.
_BOOK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function tat(key)
  local v = redis.call('GET', key)
  if v then return tonumber(v) end
  return now
end
local at = math.max(now, tat(KEYS[1]))
local wait, blocked = 0, 0
for i = 2, #KEYS do
  local other = tat(KEYS[i])
  if other > at and other - now > wait then wait, blocked = other - now, i end
end
local horizon = tonumber(ARGV[#KEYS + 1])
if blocked == 0 and at - now > horizon then wait, blocked = at - now - horizon, 1 end
if blocked > 0 then return {0, 0, wait, blocked, now} end
for i, key in ipairs(KEYS) do
  local nxt = at + tonumber(ARGV[i])
  redis.call('SET', key, string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000) + 1000)
end
return {1, at, at - now, 0, now}
"""

# KEYS[1]: the key; ARGV[1]: seconds in microseconds. TAT := max(TAT, now + seconds).
_DEFER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local nxt = math.max(v, now + tonumber(ARGV[1]))
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.ceil((nxt - now) / 1000) + 1000)
return 1
"""


class RedisRateLimiter:
    """The same booking in Redis, atomic across processes, on Redis' clock.

    The planned time is converted to this process' monotonic clock with the offset between
    the two clocks measured on the fastest recent round trip, so a slow reply does not shift
    the send: each process sends at the planned instant, not at "reply time + delay". Only
    differences of this process' clock are used, so it need not agree with Redis' date.
    """

    def __init__(self, redis: Any, prefix: str = "acordo:rate:",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._redis = redis
        self._prefix = prefix
        self._clock = clock
        self._book = redis.register_script(_BOOK)
        self._defer = redis.register_script(_DEFER)
        self._offset = 0.0            # Redis clock minus ours, seconds
        self._offset_rtt = float("inf")
        self._offset_at = 0.0

    def _learn_offset(self, sent: float, received: float, redis_now_us: int) -> None:
        rtt = received - sent
        # An old estimate counts as if its round trip grew 1 ms per second (clock drift).
        if rtt <= self._offset_rtt + (received - self._offset_at) * 0.001:
            self._offset = redis_now_us / 1_000_000 - (sent + received) / 2
            self._offset_rtt, self._offset_at = rtt, received

    async def book(self, limits: Sequence[Limit], horizon: float = 0.0) -> Booking:
        keys = [self._prefix + limit.key for limit in limits]
        args: list[Any] = [max(0, round(limit.interval * 1_000_000)) for limit in limits]
        args.append(max(0, round(horizon * 1_000_000)))
        sent = self._clock()
        booked, planned_us, wait_us, blocked, now_us = await self._book(keys=keys, args=args)
        received = self._clock()
        self._learn_offset(sent, received, int(now_us))
        if int(booked):
            planned = int(planned_us) / 1_000_000 - self._offset
            return Booking(True, max(0.0, planned - received))
        wait = max(0.0, int(wait_us) / 1_000_000 - (received - sent) / 2)
        return Booking(False, wait, limits[int(blocked) - 1].key)

    async def defer(self, key: str, seconds: float) -> None:
        await self._defer(keys=[self._prefix + key], args=[max(0, round(seconds * 1_000_000))])


def build_rate_limiter(redis_url: str | None) -> tuple[RateLimiter, Callable[[], Any] | None]:
    """The Redis limiter when ``redis_url`` is set (with a closer), else the in-process one."""
    if not redis_url:
        return InProcessRateLimiter(), None
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    return RedisRateLimiter(client), client.aclose
