"""Why the agent desk refused an agent's action (the message is shown to the agent)."""

from __future__ import annotations


class DeskError(Exception):
    """An agent action that cannot be done; the message is shown to the agent."""


class NotFound(DeskError):
    pass


class TakeConflict(DeskError):
    pass
