"""What the régua would do on a day, without writing: the contacts and the reasons not to.

:class:`CadencePreview` lists every contact (those already made that day included) and every
decision not to contact; :class:`CadenceSummary` counts them, aggregated in SQL (the
readable view of a large portfolio). ``acordo cadence preview`` prints either.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.cadence_models import MADE
from bot.storage.tables import cc, debtors, debts


@dataclass(frozen=True, slots=True)
class PlannedContact:
    debtor: str
    debt: str
    step: int
    template: str
    channel: str
    at: datetime
    segment: str
    cadence: str

    def as_json(self) -> dict[str, Any]:
        return {
            "debtor": self.debtor,
            "debt": self.debt,
            "step": self.step,
            "template": self.template,
            "channel": self.channel,
            "at": self.at.isoformat(),
            "segment": self.segment,
            "cadence": self.cadence,
        }


@dataclass(frozen=True, slots=True)
class SkippedContact:
    debtor: str
    debt: str
    step: int
    reason: str
    template: str
    segment: str
    cadence: str
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "debtor": self.debtor,
            "debt": self.debt,
            "step": self.step,
            "reason": self.reason,
            "template": self.template,
            "segment": self.segment,
            "cadence": self.cadence,
        }
        if self.detail:
            row["detail"] = self.detail
        return row


@dataclass
class CadencePreview:
    day: date
    planned: list[PlannedContact] = field(default_factory=list)
    skipped: list[SkippedContact] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "planned": [p.as_json() for p in self.planned],
            "skipped": [s.as_json() for s in self.skipped],
        }

    def counts(self) -> dict[str, Counter[tuple[str, ...]]]:
        return {
            "planned": Counter(
                (p.segment, f"{p.cadence}#{p.step}", p.template, p.channel) for p in self.planned
            ),
            "skipped": Counter(
                (s.segment, f"{s.cadence}#{s.step}", s.template, s.reason) for s in self.skipped
            ),
        }

    def sort(self) -> None:
        """Contacts by moment, then debtor and debt; decisions not to by debtor, debt, step."""
        self.planned.sort(key=lambda p: (p.at, p.debtor, p.debt))
        self.skipped.sort(key=lambda s: (s.debtor, s.debt, s.step))


@dataclass
class CadenceSummary:
    """Counts of a preview: to send per (segment, step, template, channel), not sent per
    (segment, step, template, reason)."""

    day: date
    planned: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)

    def counts(self) -> dict[str, Counter[tuple[str, str, str, str]]]:
        return {"planned": self.planned, "skipped": self.skipped}


def made_on(creditor: str, day: date) -> Select[Any]:
    """The creditor's first attempts of ``day`` that count as made."""
    return (
        select(
            debtors.c.external_id.label("debtor_ext"),
            debts.c.external_id.label("debt_ext"),
            cc.c.step,
            cc.c.template,
            cc.c.channel,
            cc.c.at,
            cc.c.timezone,
            cc.c.segment,
            cc.c.cadence,
        )
        .select_from(cc.join(debts, debts.c.id == cc.c.debt_id).join(debtors, debtors.c.id == cc.c.debtor_id))
        .where(cc.c.creditor_id == creditor, cc.c.day == day, cc.c.attempt == 0, cc.c.status.in_(list(MADE)))
    )


def _planned(row: Any, zone: str) -> PlannedContact:
    """A planned (or made) contact from a row of the planner or of the contacts made."""
    return PlannedContact(row.debtor_ext, row.debt_ext, row.step, row.template, row.channel,
                          row.at.astimezone(ZoneInfo(zone)), row.segment, row.cadence)


async def list_made(session: AsyncSession, result: CadencePreview, creditor: str, day: date) -> None:
    """Add the contacts already made on ``day`` to the preview."""
    for row in (await session.execute(made_on(creditor, day))).all():
        result.planned.append(_planned(row, row.timezone))


async def list_decisions(session: AsyncSession, result: CadencePreview, decisions: Select[Any]) -> None:
    """Add the planner's decisions (:mod:`bot.cadence.plan`) to the preview."""
    async for row in await session.stream(decisions):
        if row.reason is None:
            result.planned.append(_planned(row, row.zone))
        else:
            result.skipped.append(
                SkippedContact(
                    row.debtor_ext,
                    row.debt_ext,
                    row.step,
                    row.reason,
                    row.template,
                    row.segment,
                    row.cadence,
                    row.detail,
                )
            )


async def count_made(session: AsyncSession, result: CadenceSummary, creditor: str, day: date) -> None:
    """Count the contacts already made on ``day`` per (segment, step, template, channel)."""
    made = made_on(creditor, day).subquery("made")
    keys = (made.c.segment, made.c.cadence, made.c.step, made.c.template, made.c.channel)
    for row in await session.execute(select(*keys, func.count()).group_by(*keys)):
        result.planned[(row[0], f"{row[1]}#{row[2]}", row[3], row[4])] += row[5]


async def count_decisions(session: AsyncSession, result: CadenceSummary, decisions: Select[Any]) -> None:
    """Count the planner's decisions: contacts per channel, decisions not to per reason."""
    decided = decisions.subquery("decided")
    keys = (
        decided.c.segment,
        decided.c.cadence,
        decided.c.step,
        decided.c.template,
        decided.c.channel,
        decided.c.reason,
    )
    for row in await session.execute(select(*keys, func.count()).group_by(*keys)):
        segment, cadence, step, template, channel, reason, count = row
        if reason is None:
            result.planned[(segment, f"{cadence}#{step}", template, channel)] += count
        else:
            result.skipped[(segment, f"{cadence}#{step}", template, reason)] += count
