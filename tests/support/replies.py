"""Helpers for the replies of POST /channels/web/messages."""

from __future__ import annotations

from typing import Any


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r["text"]) for r in replies)
