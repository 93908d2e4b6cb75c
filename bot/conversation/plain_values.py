"""Lossless JSON encoding of the plain values that go into templates.

Template variables travel through Rasa (JSON) and are stored with each
outbound message; ``Decimal`` and ``date`` must come back as themselves so
the renderer formats money and dates for the debtor's locale. They are
tagged: ``{"$decimal": "1500.00"}``, ``{"$date": "2026-12-01"}``,
``{"$datetime": "2026-12-01T09:00:00-03:00"}``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any


def encode(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    raise TypeError(f"not a plain template value: {type(value).__name__}")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1:
            (tag, raw), = value.items()
            if tag == "$decimal":
                return Decimal(raw)
            if tag == "$date":
                return date.fromisoformat(raw)
            if tag == "$datetime":
                return datetime.fromisoformat(raw)
        return {key: decode(item) for key, item in value.items()}
    return value
