"""Run an ASGI app's start-up and shut-down in tests.

asgi-lifespan gives start-up five seconds by default. The app's start-up creates its schema
and workers, which on a loaded two-core machine (or under faketime) can take longer; the
test's own ceiling (pytest-timeout) is the bound that matters, so this one is generous.
"""

from __future__ import annotations

from typing import Any

from asgi_lifespan import LifespanManager

LIFESPAN_TIMEOUT = 60.0


def lifespan(app: Any) -> LifespanManager:
    return LifespanManager(app, startup_timeout=LIFESPAN_TIMEOUT, shutdown_timeout=LIFESPAN_TIMEOUT)
