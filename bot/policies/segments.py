"""Segment membership, defined once.

A segment's ``when`` is turned into a list of :class:`Bound` (one inclusive bound on one fact:
``days_past_due >= 31``, ``amount <= 5000.00``). Every place that segments anything builds
from that list: :meth:`SegmentCondition.matches` and :func:`first_segment` evaluate it in
Python; the régua's planner (:mod:`bot.cadence.plan`) and the results dashboard
(:mod:`bot.services.results`) render it as SQL (:mod:`bot.services.segment_sql`). What differs
between them is only where the facts come from, never the rule.

The rule: segments are tried in order and the **first whose every bound holds** wins; a
segment with no ``when`` has no bound and so matches everything. If none matches (only
possible when the last segment has a ``when``) the last segment applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal, Protocol, TypeVar


class Segmented(Protocol):
    """A policy segment (:class:`bot.policies.models.Segment`): its ``when``, or none."""

    @property
    def when(self) -> object | None: ...


SegmentT = TypeVar("SegmentT", bound=Segmented)


class Fact(StrEnum):
    """What a ``when`` can look at (docs/policies.md)."""

    DAYS_PAST_DUE = "days_past_due"  # days since the due date (negative before it)
    BALANCE = "balance"  # unpaid principal
    AMOUNT = "amount"  # the invoice's face amount
    BROKEN_PROMISES = "broken_promises"  # promises the debtor broke in the last 365 days
    PAST_DAYS_LATE = "past_days_late"  # most days late the debtor paid a paid invoice


@dataclass(frozen=True)
class Bound:
    """``fact >= value`` (``side == "min"``) or ``fact <= value`` (``side == "max"``)."""

    fact: Fact
    side: Literal["min", "max"]
    value: int | Decimal

    def holds(self, actual: int | Decimal) -> bool:
        return actual >= self.value if self.side == "min" else actual <= self.value


@dataclass(frozen=True)
class SegmentFacts:
    """The facts of one debt (the régua) or one debtor (the dashboard)."""

    days_past_due: int
    balance: Decimal
    amount: Decimal
    broken_promises: int = 0
    past_days_late: int = 0

    def value(self, fact: Fact) -> int | Decimal:
        value: int | Decimal = getattr(self, fact.value)
        return value


def bounds(when: object | None) -> tuple[Bound, ...]:
    """The bounds of a ``when`` (:class:`bot.policies.models.SegmentCondition`), in the order
    of the keys (none for a missing ``when``)."""
    if when is None:
        return ()
    result: list[Bound] = []
    for fact in Fact:
        rng = getattr(when, fact.value)
        if rng is None:
            continue
        if rng.min is not None:
            result.append(Bound(fact, "min", rng.min))
        if rng.max is not None:
            result.append(Bound(fact, "max", rng.max))
    return tuple(result)


def holds(when: object | None, facts: SegmentFacts) -> bool:
    return all(bound.holds(facts.value(bound.fact)) for bound in bounds(when))


def first_segment(segments: Sequence[SegmentT], facts: SegmentFacts) -> SegmentT:
    """The first segment whose ``when`` holds; the last one when none does."""
    for segment in segments:
        if holds(segment.when, facts):
            return segment
    return segments[-1]


def facts_needed(segments: Sequence[Segmented]) -> frozenset[Fact]:
    """The facts some segment's ``when`` looks at (a query computes only those)."""
    return frozenset(bound.fact for segment in segments for bound in bounds(segment.when))
