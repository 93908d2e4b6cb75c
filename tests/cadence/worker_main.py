"""A régua worker for the crash and concurrency tests: ``python -m tests.cadence.worker_main``.

The same parts as ``acordo worker`` (the container's cadence loop and an outbox dispatcher),
with a clock that starts at a fixed moment (``ACORDO_TEST_NOW``, ISO) so the test controls the
day and the contact window, and a short lease so a killed worker's rows come back quickly.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import datetime

from bot.bootstrap import build_container
from bot.clock import RunningClock
from bot.config import Settings


async def main() -> None:
    clock = RunningClock(datetime.fromisoformat(os.environ["ACORDO_TEST_NOW"]))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with build_container(Settings(), clock=clock) as container:
        dispatcher = container.channels.new_dispatcher(
            os.environ.get("WORKER_NAME", f"w{os.getpid()}"),
            lease_seconds=float(os.environ.get("LEASE", "2")),
            poll_interval=0.05,
            backoff_base=0.05,
            batch=8,
        )
        print(f"ready {time.monotonic()}", flush=True)  # noqa: T201
        async with container.cadence.running():
            await dispatcher.run(stop)


if __name__ == "__main__":
    asyncio.run(main())
