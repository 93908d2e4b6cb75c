"""What an emulator saw: requests with timestamps, deliveries, and rate-limit violations."""

from __future__ import annotations

import random
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Faults:
    """Random faults on sends: a share of 429s, of 5xx and of timeouts (processed, answered late)."""

    rate_429: float = 0.0
    retry_after: tuple[int, int] = (1, 3)
    rate_5xx: float = 0.0
    rate_timeout: float = 0.0
    timeout_delay: float = 30.0


@dataclass
class Request:
    at: float
    method: str
    chat: str | None
    key: str | None
    outcome: str  # "ok", "duplicate", "429", "5xx", "timeout", "403", "400", "401"


@dataclass
class Delivery:
    """A message the provider accepted. ``media``: its pictures (Telegram: the uploaded bytes,
    or the URL / file id it was given; Twilio: the ``MediaUrl`` values)."""

    at: float
    chat: str
    text: str
    key: str | None
    provider_id: str
    params: dict[str, Any] = field(default_factory=dict)
    media: tuple[bytes | str, ...] = ()


class Observed:
    """Shared bookkeeping of both emulators."""

    def __init__(self, faults: Faults | None = None, seed: int = 0) -> None:
        self.faults = faults or Faults()
        self.random = random.Random(seed)
        self.requests: list[Request] = []
        self.deliveries: list[Delivery] = []
        self.by_key: dict[str, Any] = {}
        self.scripted: deque[str] = deque()  # forced outcomes for the next sends ("429", "5xx", "timeout")
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    def app(self) -> web.Application:
        raise NotImplementedError

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve :meth:`app` on ``host``; port 0 picks a free one. Returns the base URL."""
        self._runner = web.AppRunner(self.app(), handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = site._server.sockets if site._server else []  # type: ignore[attr-defined]
        self.base_url = f"http://{host}:{sockets[0].getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def now(self) -> float:
        return time.monotonic()

    def draw_fault(self) -> str | None:
        if self.scripted:
            return self.scripted.popleft()
        roll = self.random.random()
        faults = self.faults
        if roll < faults.rate_429:
            return "429"
        if roll < faults.rate_429 + faults.rate_5xx:
            return "5xx"
        if roll < faults.rate_429 + faults.rate_5xx + faults.rate_timeout:
            return "timeout"
        return None

    def sends(self) -> list[Request]:
        return [r for r in self.requests if r.chat is not None]

    def violations(self, global_per_second: float, chat_per_second: float) -> dict[str, int]:
        """Sends beyond ``global_per_second`` in any 1 s window, or closer than 1/rate in one chat."""
        arrivals = sorted(r.at for r in self.sends())
        count = int(global_per_second)
        global_violations = sum(1 for i in range(len(arrivals) - count)
                                if arrivals[i + count] - arrivals[i] < 1.0)
        by_chat: dict[str, list[float]] = defaultdict(list)
        for request in self.sends():
            assert request.chat is not None
            by_chat[request.chat].append(request.at)
        gap = 1.0 / chat_per_second
        chat_violations = sum(1 for times in by_chat.values()
                              for a, b in zip(sorted(times), sorted(times)[1:], strict=False) if b - a < gap)
        return {"global": global_violations, "per_chat": chat_violations}

    def summary(self) -> dict[str, Any]:
        outcomes: dict[str, int] = defaultdict(int)
        for request in self.sends():
            outcomes[request.outcome] += 1
        return {"requests": len(self.sends()), "deliveries": len(self.deliveries), "outcomes": dict(outcomes)}

    def report(self, global_per_second: float, chat_per_second: float) -> dict[str, Any]:
        """Everything a benchmark needs, as JSON-safe values."""
        sends = self.sends()
        delivered_keys: dict[str, int] = defaultdict(int)
        texts: dict[tuple[str, str, tuple[bytes | str, ...]], int] = defaultdict(int)
        for delivery in self.deliveries:
            delivered_keys[delivery.key or delivery.provider_id] += 1
            texts[(delivery.chat, delivery.text, delivery.media)] += 1
        span = (sends[-1].at - sends[0].at) if len(sends) > 1 else 0.0
        first_ok = [d.at for d in self.deliveries]
        ok_span = (max(first_ok) - min(first_ok)) if len(first_ok) > 1 else 0.0
        times = sorted(r.at for r in sends)
        low, high = int(len(times) * 0.05), int(len(times) * 0.95) - 1
        steady = (high - low) / (times[high] - times[low]) if high > low and times[high] > times[low] else 0.0
        return {**self.summary(), "violations": self.violations(global_per_second, chat_per_second),
                "sustained_request_rate": steady,
                "request_rate": len(sends) / span if span else 0.0,
                "delivery_rate": len(self.deliveries) / ok_span if ok_span else 0.0,
                "duplicated": sum(n - 1 for n in texts.values() if n > 1),
                "delivered_keys": sorted(delivered_keys)}
