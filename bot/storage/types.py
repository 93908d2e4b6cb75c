"""Column types that keep money exact, datetimes aware and JSON plain on every backend."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Numeric
from sqlalchemy.types import TypeDecorator, TypeEngine

CENT = Decimal("0.01")
# What a NUMERIC(14, 2) column holds, and the largest single amount (a debt, a payment) the
# app accepts: ten billion less a cent, so sums of many still fit the column.
MAX_MONEY = Decimal("999999999999.99")
MAX_PAYMENT = Decimal("9999999999.99")


class Money(TypeDecorator[Decimal]):
    """``NUMERIC(14, 2)`` in and out as :class:`~decimal.Decimal`, never ``float``.

    PostgreSQL stores and returns exact decimals. SQLite has no decimal type: a
    ``NUMERIC`` column keeps the value as a REAL, which holds up to 15 significant
    digits exactly, more than the 14 of ``NUMERIC(14, 2)``; we bind decimal strings
    and turn what comes back into a ``Decimal`` through its shortest ``repr``,
    quantized to cents, so the round trip is exact.
    """

    impl = Numeric(14, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            # asdecimal=False: we do the conversion ourselves (and avoid SQLAlchemy's
            # "does not support Decimal objects natively" warning).
            return dialect.type_descriptor(Numeric(14, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(14, 2))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = to_money(value)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return to_money(value if isinstance(value, Decimal) else Decimal(repr(value)))


class Percent(Money):
    """``NUMERIC(5, 2)`` percentages (``"12.50"``), as exact as :class:`Money`."""

    impl = Numeric(5, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(5, 2, asdecimal=False))
        return dialect.type_descriptor(Numeric(5, 2))


def to_money(value: Decimal | int | str) -> Decimal:
    """A decimal amount rounded to cents; ``float`` is refused (it is never exact)."""
    if isinstance(value, float):
        raise TypeError("money must be a Decimal, int or str, never float")
    if isinstance(value, bool):
        raise TypeError("money must be a Decimal, int or str, not bool")
    amount = value if isinstance(value, Decimal) else Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"money must be finite, got {value!r}")
    return amount.quantize(CENT)


class UTCDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that accepts only aware datetimes and returns aware UTC.

    SQLite has no time zones: the value is stored as naive UTC and given ``UTC`` back
    on the way out. PostgreSQL keeps a real ``timestamptz``. Naive datetimes are
    refused on both, so a local wall-clock time can never be stored as if it were UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONData(TypeDecorator[Any]):
    """A JSON column that stores Python ``None`` as SQL ``NULL`` and makes values JSON-safe.

    Decimals and dates are written as strings (see :func:`json_safe`); they come back
    as strings, and the reader decides their type.
    """

    impl = JSON(none_as_null=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json_safe(value)


def json_safe(value: Any) -> Any:
    """``value`` with Decimals, dates, datetimes and enums turned into strings, recursively.

    ``Decimal("10.50")`` -> ``"10.50"``, ``date(2026, 1, 5)`` -> ``"2026-01-05"``,
    aware datetimes -> ISO 8601 with offset. Mappings become dicts with string keys,
    tuples and lists become lists. Floats pass through (scores, not money: money is
    always a Decimal).
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value.value if isinstance(value, Enum) else value
    if isinstance(value, Enum):
        return json_safe(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(json_safe(key)): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    raise TypeError(f"cannot store {type(value).__name__} in a JSON column")


CLOCK_OPTION = "acordo_clock"
"""The engine execution option that carries the app's :class:`~bot.clock.Clock`."""


class MissingClock(RuntimeError):
    """A row needed a timestamp, but its engine was made without the app's clock."""


def clock_now(context: Any) -> datetime:
    """Column default for every timestamp: the clock bound to the engine.

    :func:`bot.storage.db.create_engine` puts the injected clock into the engine's
    execution options, so ORM flushes and Core inserts/updates stamp rows with the same
    time the services read; an engine without a clock refuses to invent one.
    """
    clock = context.execution_options.get(CLOCK_OPTION)
    if clock is None:
        raise MissingClock("this engine has no clock: create_engine(url, clock=...)")
    moment: datetime = clock.now()
    return moment
