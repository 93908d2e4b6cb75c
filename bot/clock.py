"""The one place Acordo reads the time.

Every domain timestamp (rows and their defaults, outbox due times, agreements, promises,
payments, messages, régua decisions, staff sessions and their expiries) comes from the
:class:`Clock` the composition root injects: :class:`SystemClock` in production,
:class:`FixedClock` or :class:`SteppingClock` in tests. Durations (rate-limit pacing,
timeouts) use :func:`time.monotonic`, which is not a date and never lands in a row.

``make lint`` refuses wall-clock reads (``datetime.now``, ``datetime.utcnow``,
``date.today``, ``time.time``) anywhere in ``bot/`` but this module; see
``[tool.ruff.lint.flake8-tidy-imports.banned-api]`` in ``pyproject.toml``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, time-zone aware."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """Always the same moment (tests that must not depend on when they run)."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class SteppingClock:
    """A clock that moves only when told: :meth:`advance`, or :meth:`sleep` (which advances
    by the time asked and yields to the event loop), so code that waits for a due time
    reaches it at once in a test."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("SteppingClock needs an aware datetime")
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        if seconds > 0:
            self.moment += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)

    def monotonic(self) -> float:
        """Seconds, for code that paces itself with ``time.monotonic`` (this clock's epoch)."""
        return self.moment.timestamp()


class RunningClock:
    """Starts at a given moment and runs at the pace of :func:`time.monotonic`: a real,
    moving clock whose date the caller chooses (tests and worker processes that must agree
    on one day whatever the date they run on)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("RunningClock needs an aware datetime")
        self._start = start
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._origin)
