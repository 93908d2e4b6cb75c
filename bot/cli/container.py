"""The one way a command reaches the services: build the container, run the work, close it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.config import Settings

if TYPE_CHECKING:
    from bot.bootstrap import Container

T = TypeVar("T")


def run_with_container(work: Callable[[Container], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run ``work`` with a container built from ``settings`` (default: the environment's)."""
    from bot.bootstrap import build_container  # not at import: `acordo --help` stays fast

    async def runner() -> T:
        async with build_container(settings if settings is not None else Settings()) as container:
            return await work(container)

    return asyncio.run(runner())
