"""The régua (cadence) dispatcher: plan a day's contacts set-wise, queue them, follow them up.

- :meth:`CadenceService.preview` — what would be done on a day and why not (no writes).
- :meth:`CadenceService.schedule` — the same decision, written set-wise: contacts to make
  go to ``cadence_contacts`` (status ``planned``, a deterministic idempotency key
  ``cadence:<debt>:<cadence>:<step>:<day>``), decisions not to contact to
  ``contact_decisions`` with their reason. On PostgreSQL an advisory lock per creditor
  serializes concurrent schedulers (the caps stay exact); the unique keys make a re-run
  (or a crashed one run again) change nothing.
- :meth:`CadenceService.materialize` — planned contacts become outbox rows (``not_before``
  = the planned moment, ``initiated_by = bot``) and conversation messages, in batches of
  one transaction each, claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL. The outbox
  row has the same idempotency key, which the channel adapters pass to the provider: a
  worker killed at any point sends nothing twice and loses nothing.
- :meth:`CadenceService.sweep` — follows the outbox: ``sent``; a failed channel falls back
  to the next of the step; a contact whose debt was paid, disputed or agreed (or whose
  debtor is with a person) before it went is cancelled; one whose window closed unsent is
  expired and planned again on the next allowed day.
- :meth:`CadenceService.run` — the loop ``acordo worker`` (and the app, when
  ``ACORDO_CADENCE_IN_APP``) runs: at the first tick of each creditor's local day, the day's
  follow-up of promises and installments (:class:`bot.services.followup.FollowUpService`,
  before the régua so its reminders get the day's contact first); schedule each creditor's
  local today every ``ACORDO_CADENCE_SCHEDULE_MINUTES``, materialize, sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union,
    update,
)
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.contact_rules import (
    ContactCalendar,
    ContactOption,
    SkipReason,
    ZoneDay,
    ZoneDays,
    choose_channel,
)
from bot.conversation.outcome import Reply
from bot.negotiation.balance import DebtPosition, balance_on, days_past_due
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.rendering.renderer import TemplateRenderer
from bot.services.audit_kinds import AuditKind
from bot.services.cadence_plan import (
    DuePlanner,
    PlanRequest,
    already_paid_since,
    policy_steps,
    table_of,
)
from bot.services.negotiation import MENU_BUTTONS
from bot.services.outgoing import OutgoingMessages
from bot.storage import models as db
from bot.storage.cadence_models import (
    CadenceContact,
    CadenceContactStatus,
    CadenceRun,
    ContactDecision,
)
from bot.storage.channel_models import OUTSIDE_HOURS, Initiator, OutboxMessage, OutboxStatus
from bot.storage.payment_models import Promise, PromiseStatus
from bot.storage.repositories import AuditLog, ConversationRepository

logger = logging.getLogger(__name__)
Status = CadenceContactStatus
DECISION_COLUMNS = (
    "debt_id",
    "debtor_id",
    "debtor_ext",
    "debt_ext",
    "due_date",
    "segment",
    "cadence",
    "step",
    "template",
    "contact_id",
    "channel",
    "zone",
    "at",
    "window_end",
    "reason",
    "detail",
)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


@lru_cache(maxsize=64)
def national_holidays(country: str, year: int) -> frozenset[date]:
    """National holidays of ``country`` in ``year`` (the ``holidays`` library; no regional ones)."""
    return frozenset(holiday_calendars.country_holidays(country, years=year).keys())


def contact_calendar(policy: Policy, around: date) -> ContactCalendar:
    """The policy's contact calendar with national holidays around ``around`` (±1 year)."""
    rules = policy.contact_rules
    national: set[date] = set()
    if rules.holidays:
        for year in (around.year - 1, around.year, around.year + 1):
            national |= national_holidays(rules.holidays, year)
    return ContactCalendar.from_rules(rules, national)


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


@dataclass
class CadenceSummary:
    """Counts of a preview: to send per (segment, step, template, channel), not sent per
    (segment, step, template, reason)."""

    day: date
    planned: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    skipped: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)

    def counts(self) -> dict[str, Counter[tuple[str, str, str, str]]]:
        return {"planned": self.planned, "skipped": self.skipped}


@dataclass
class ScheduleResult:
    creditor: str
    day: date
    planned: int = 0
    skipped: int = 0


def _temp_table() -> Table:
    return Table(
        "tmp_cadence_decisions",
        MetaData(),
        Column("debt_id", Integer),
        Column("debtor_id", Integer),
        Column("debtor_ext", String(64)),
        Column("debt_ext", String(64)),
        Column("due_date", Date),
        Column("segment", String(64)),
        Column("cadence", String(64)),
        Column("step", Integer),
        Column("template", String(64)),
        Column("contact_id", Integer),
        Column("channel", String(16)),
        Column("zone", String(64)),
        Column("at", DateTime(timezone=True)),
        Column("window_end", DateTime(timezone=True)),
        Column("reason", String(24)),
        Column("detail", String(64)),
        prefixes=["TEMPORARY"],
    )


async def lock_creditor(session: AsyncSession, creditor: str) -> None:
    """Serialize, per creditor, everything that counts contacts against the caps (the régua's
    scheduler, each follow-up decision): a PostgreSQL advisory lock released at the end of the
    transaction. SQLite has one writer at a time anyway."""
    if _dialect(session) == "postgresql":
        lock = zlib.crc32(f"cadence:{creditor}".encode()) & 0x7FFFFFFF
        await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock})


class DailyFollowUp(Protocol):
    """The day's follow-up of promises and installment plans (``FollowUpService``)."""

    async def run(self, day: date, *, creditor: str | None = None, dry_run: bool = False) -> Any: ...


async def cancel_pending(session: AsyncSession, debt_ids: Iterable[int], reason: str, now: datetime) -> int:
    """Take these debts out of the régua at once: their queued reminders not yet claimed by a
    worker are cancelled in the outbox (the caller commits). How many were cancelled."""
    ids = list(debt_ids)
    if not ids:
        return 0
    table, outbox = table_of(CadenceContact), table_of(OutboxMessage)
    rows = (
        await session.execute(
            select(table.c.id, table.c.outbox_id).where(
                table.c.debt_id.in_(ids), table.c.status.in_([Status.PLANNED.value, Status.QUEUED.value])
            )
        )
    ).all()
    cancelled = 0
    for row_id, outbox_id in rows:
        if outbox_id is not None:
            changed = await session.execute(
                update(outbox)
                .where(outbox.c.id == outbox_id, outbox.c.status == OutboxStatus.PENDING.value)
                .values(
                    status=OutboxStatus.CANCELLED.value,
                    last_error=f"cadence paused: {reason}"[:500],
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if not getattr(changed, "rowcount", 0):
                continue  # a worker holds it already
        await session.execute(
            update(table)
            .where(table.c.id == row_id)
            .values(status=Status.CANCELLED.value, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        cancelled += 1
    return cancelled


class CadenceService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policies: PolicyBook,
        renderer: TemplateRenderer,
        clock: Clock,
        channels_on: Iterable[str],
        *,
        schedule_every: timedelta = timedelta(minutes=15),
        tick_seconds: float = 30.0,
        batch: int = 500,
        on_queued: Any = None,
        followup: DailyFollowUp | None = None,
    ) -> None:
        self._sessions = sessions
        self._policies = policies
        self._renderer = renderer
        self._outgoing = OutgoingMessages(renderer)
        self._clock = clock
        self.channels_on = frozenset(channels_on)
        self._schedule_every = schedule_every
        self._tick = tick_seconds
        self._batch = batch
        self._on_queued = on_queued  # e.g. wake the outbox dispatchers
        self._last_schedule: dict[tuple[str, date], datetime] = {}
        self._followup = followup
        self._followed_up: set[tuple[str, date]] = set()  # (creditor, local day) done
        self._followup_tried: dict[tuple[str, date], datetime] = {}

    # -- deciding -----------------------------------------------------------------------

    def _creditors(self, creditor: str | None) -> list[tuple[str, Policy]]:
        if creditor is not None:
            if creditor not in self._policies:
                raise ValueError(f"unknown creditor {creditor!r}: no policies/{creditor}.yaml is loaded")
            return [(creditor, self._policies[creditor])]
        return sorted(self._policies.items())

    def _today(self, policy: Policy) -> date:
        return self._clock.now().astimezone(ZoneInfo(policy.creditor.timezone)).date()

    def _moment(self, policy: Policy, day: date) -> datetime:
        """``now`` for deciding ``day``: the real now on the creditor's today, else the day's start."""
        now = self._clock.now()
        if day == self._today(policy):
            return now
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(policy.creditor.timezone)).astimezone(UTC)

    async def _decision_query(
        self, session: AsyncSession, creditor: str, policy: Policy, day: date, now: datetime
    ) -> Any:
        dialect = _dialect(session)
        planner = DuePlanner(dialect)
        if dialect == "postgresql":
            # The statement is a batch over every debt: hash joins, never nested loops over
            # CTE scans (whose row estimates are guesses). For this transaction only.
            await session.execute(text("SET LOCAL enable_nestloop = off"))
        zone_names = [z for z in (await session.scalars(planner.zones(creditor))).all() if z]
        calendar = contact_calendar(policy, day)
        verdicts = ZoneDays(calendar, day, now)
        zones: dict[str, ZoneDay] = {}
        for name in zone_names:
            try:
                zones[name] = verdicts.get(name)
            except (KeyError, ValueError):
                logger.warning("unknown time zone %r in the portfolio of %s", name, creditor)
        since = already_paid_since(
            day, policy.contact_rules.already_paid_pause_days, policy.creditor.timezone
        )
        request = PlanRequest(creditor, policy, day, self.channels_on)
        return planner.decisions(request, zones, now, since)

    async def preview(self, day: date, creditor: str | None = None) -> CadencePreview:
        """What the dispatcher would do on ``day`` (contacts already made that day included)."""
        result = CadencePreview(day)
        async with self._sessions() as session:
            for creditor_id, policy in self._creditors(creditor):
                now = self._moment(policy, day)
                for row in (await session.execute(self._made_on(creditor_id, day))).all():
                    result.planned.append(
                        PlannedContact(
                            row.debtor_ext,
                            row.debt_ext,
                            row.step,
                            row.template,
                            row.channel,
                            row.at.astimezone(ZoneInfo(row.timezone)),
                            row.segment,
                            row.cadence,
                        )
                    )
                query = await self._decision_query(session, creditor_id, policy, day, now)
                if query is None:
                    continue
                async for row in await session.stream(query):
                    if row.reason is None:
                        result.planned.append(
                            PlannedContact(
                                row.debtor_ext,
                                row.debt_ext,
                                row.step,
                                row.template,
                                row.channel,
                                row.at.astimezone(ZoneInfo(row.zone)),
                                row.segment,
                                row.cadence,
                            )
                        )
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
        result.planned.sort(key=lambda p: (p.at, p.debtor, p.debt))
        result.skipped.sort(key=lambda s: (s.debtor, s.debt, s.step))
        return result

    async def summary(self, day: date, creditor: str | None = None) -> CadenceSummary:
        """The preview's counts, aggregated in SQL (the readable view of a large portfolio):
        contacts per (segment, step, template, channel) and not-contacts per (…, reason)."""
        result = CadenceSummary(day)
        async with self._sessions() as session:
            for creditor_id, policy in self._creditors(creditor):
                now = self._moment(policy, day)
                made = self._made_on(creditor_id, day).subquery("made")
                for row in await session.execute(
                    select(
                        made.c.segment,
                        made.c.cadence,
                        made.c.step,
                        made.c.template,
                        made.c.channel,
                        func.count(),
                    ).group_by(made.c.segment, made.c.cadence, made.c.step, made.c.template, made.c.channel)
                ):
                    result.planned[(row[0], f"{row[1]}#{row[2]}", row[3], row[4])] += row[5]
                query = await self._decision_query(session, creditor_id, policy, day, now)
                if query is None:
                    continue
                decided = query.subquery("decided")
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
        return result

    def _made_on(self, creditor: str, day: date) -> Any:
        debts, debtors = table_of(db.Debt), table_of(db.Debtor)
        table = table_of(CadenceContact)
        return (
            select(
                debtors.c.external_id.label("debtor_ext"),
                debts.c.external_id.label("debt_ext"),
                table.c.step,
                table.c.template,
                table.c.channel,
                table.c.at,
                table.c.timezone,
                table.c.segment,
                table.c.cadence,
            )
            .select_from(
                table.join(debts, debts.c.id == table.c.debt_id).join(
                    debtors, debtors.c.id == table.c.debtor_id
                )
            )
            .where(
                table.c.creditor_id == creditor,
                table.c.day == day,
                table.c.attempt == 0,
                table.c.status.in_(
                    [
                        Status.PLANNED.value,
                        Status.QUEUED.value,
                        Status.SENT.value,
                        Status.FELL_BACK.value,
                        Status.FAILED.value,
                    ]
                ),
            )
        )

    # -- scheduling ---------------------------------------------------------------------

    async def schedule(self, day: date | None = None, creditor: str | None = None) -> list[ScheduleResult]:
        """Decide and record the day's contacts (creditor's local today by default)."""
        results = []
        for creditor_id, policy in self._creditors(creditor):
            when = day or self._today(policy)
            results.append(await self._schedule_one(creditor_id, policy, when))
        return results

    async def _schedule_one(self, creditor: str, policy: Policy, day: date) -> ScheduleResult:
        result = ScheduleResult(creditor, day)
        now = self._moment(policy, day)
        async with self._sessions() as session:
            await lock_creditor(session, creditor)
            run = CadenceRun(creditor_id=creditor, day=day, started_at=self._clock.now())
            session.add(run)
            query = await self._decision_query(session, creditor, policy, day, now)
            if query is not None:
                tmp = _temp_table()
                connection = await session.connection()
                await connection.run_sync(lambda sync: tmp.create(sync))
                try:
                    await session.execute(insert(tmp).from_select(list(DECISION_COLUMNS), query))
                    result.planned = await self._write_contacts(session, tmp, creditor, day)
                    result.skipped = await self._write_decisions(session, tmp, creditor, day)
                finally:
                    await connection.run_sync(lambda sync: tmp.drop(sync))
            run.planned, run.skipped, run.finished_at = result.planned, result.skipped, self._clock.now()
            await session.commit()
        self._last_schedule[(creditor, day)] = self._clock.now()
        return result

    def _insert(self, session: AsyncSession, table: Table) -> Any:
        return pg.insert(table) if _dialect(session) == "postgresql" else sqlite.insert(table)

    async def _write_contacts(self, session: AsyncSession, tmp: Table, creditor: str, day: date) -> int:
        table = table_of(CadenceContact)
        now = self._clock.now()
        key = (
            literal("cadence:")
            + tmp.c.debt_id.cast(String)
            + literal(":")
            + tmp.c.cadence
            + literal(":")
            + tmp.c.step.cast(String)
            + literal(":" + day.isoformat())
        )
        rows = select(
            key,
            literal(creditor),
            tmp.c.debtor_id,
            tmp.c.debt_id,
            tmp.c.contact_id,
            tmp.c.segment,
            tmp.c.cadence,
            tmp.c.step,
            tmp.c.template,
            tmp.c.channel,
            literal(0),
            literal(day, Date),
            tmp.c.zone,
            tmp.c.at,
            tmp.c.window_end,
            literal(Status.PLANNED.value),
            literal(now, table.c.created_at.type),
            literal(now, table.c.updated_at.type),
        ).where(tmp.c.reason.is_(None))
        statement = (
            self._insert(session, table)
            .from_select(
                [
                    "idempotency_key",
                    "creditor_id",
                    "debtor_id",
                    "debt_id",
                    "contact_id",
                    "segment",
                    "cadence",
                    "step",
                    "template",
                    "channel",
                    "attempt",
                    "day",
                    "timezone",
                    "at",
                    "window_end",
                    "status",
                    "created_at",
                    "updated_at",
                ],
                rows,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        written = await session.execute(statement)
        return int(getattr(written, "rowcount", 0) or 0)

    async def _write_decisions(self, session: AsyncSession, tmp: Table, creditor: str, day: date) -> int:
        table = table_of(ContactDecision)
        now = self._clock.now()
        rows = select(
            literal(creditor),
            tmp.c.debtor_id,
            tmp.c.debt_id,
            tmp.c.segment,
            tmp.c.cadence,
            tmp.c.step,
            tmp.c.template,
            tmp.c.reason,
            tmp.c.detail,
            literal(day, Date),
            literal(day, Date),
            literal(1),
            literal(now, table.c.created_at.type),
            literal(now, table.c.updated_at.type),
        ).where(tmp.c.reason.is_not(None))
        statement = self._insert(session, table).from_select(
            [
                "creditor_id",
                "debtor_id",
                "debt_id",
                "segment",
                "cadence",
                "step",
                "template",
                "reason",
                "detail",
                "first_day",
                "last_day",
                "days",
                "created_at",
                "updated_at",
            ],
            rows,
        )
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["debt_id", "cadence", "step", "reason"],
            set_={
                "last_day": excluded.last_day,
                "days": table.c.days + 1,
                "detail": excluded.detail,
                "segment": excluded.segment,
                "updated_at": excluded.updated_at,
            },
            where=table.c.last_day < excluded.last_day,
        )
        await session.execute(statement)
        count = await session.scalar(select(func.count()).select_from(tmp).where(tmp.c.reason.is_not(None)))
        return int(count or 0)

    # -- queueing -----------------------------------------------------------------------

    async def materialize(self, limit: int | None = None) -> int:
        """Turn planned contacts into outbox rows and conversation messages; how many."""
        done = 0
        while limit is None or done < limit:
            size = self._batch if limit is None else min(self._batch, limit - done)
            count = await self._materialize_batch(size)
            done += count
            if count < size:
                break
        if done and self._on_queued is not None:
            self._on_queued()
        return done

    async def _materialize_batch(self, size: int) -> int:
        async with self._sessions() as session:
            query = (
                select(CadenceContact)
                .where(
                    CadenceContact.status == Status.PLANNED.value,
                    # The outbox holds a message until its moment (``not_before``); the web
                    # chat shows one as soon as it is stored, so it is stored at its moment.
                    or_(CadenceContact.channel != db.Channel.WEB.value,
                        CadenceContact.at <= self._clock.now()),
                )
                .order_by(CadenceContact.at, CadenceContact.id)
                .limit(size)
            )
            if _dialect(session) == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(await session.scalars(query))
            if not rows:
                return 0
            debts = {
                d.id: d
                for d in await session.scalars(
                    select(db.Debt).where(db.Debt.id.in_({r.debt_id for r in rows}))
                )
            }
            debtors = {
                d.id: d
                for d in await session.scalars(
                    select(db.Debtor).where(db.Debtor.id.in_({r.debtor_id for r in rows}))
                )
            }
            contact_rows = {
                c.id: c
                for c in await session.scalars(
                    select(db.Contact).where(db.Contact.id.in_({r.contact_id for r in rows}))
                )
            }
            paused = await self._paused_debtors(session, {r.debtor_id for r in rows})
            for row in rows:
                await self._queue_one(
                    session,
                    row,
                    debts[row.debt_id],
                    debtors[row.debtor_id],
                    contact_rows[row.contact_id],
                    paused,
                )
            await session.commit()
            return len(rows)

    async def _paused_debtors(self, session: AsyncSession, debtor_ids: set[int]) -> dict[int, str]:
        """Debtors whose régua is paused now (agreement, promise, a person), with the reason."""
        paused: dict[int, str] = {}
        for debtor_id in await session.scalars(
            select(db.Agreement.debtor_id).where(
                db.Agreement.debtor_id.in_(debtor_ids), db.Agreement.status == db.AgreementStatus.ACTIVE.value
            )
        ):
            paused[debtor_id] = SkipReason.AGREEMENT.value
        for debtor_id in await session.scalars(
            select(Promise.debtor_id).where(
                Promise.debtor_id.in_(debtor_ids), Promise.status == PromiseStatus.PENDING.value
            )
        ):
            paused[debtor_id] = SkipReason.AGREEMENT.value
        for debtor_id in await session.scalars(
            select(db.Contact.debtor_id)
            .join(db.Conversation, db.Conversation.contact_id == db.Contact.id)
            .where(
                db.Contact.debtor_id.in_(debtor_ids),
                db.Conversation.state == db.ConversationState.HUMAN.value,
            )
        ):
            paused.setdefault(debtor_id, SkipReason.HUMAN.value)
        return paused

    def _debt_pause(self, debt: db.Debt) -> str | None:
        if debt.status == db.DebtStatus.PAID or debt.amount <= debt.paid_amount:
            return SkipReason.PAID.value
        if debt.status == db.DebtStatus.DISPUTED:
            return SkipReason.DISPUTE.value
        if debt.status == db.DebtStatus.IN_AGREEMENT:
            return SkipReason.AGREEMENT.value
        if debt.status != db.DebtStatus.OPEN:
            return str(debt.status)[:24]  # written off (or a status added later): never reminded
        return None

    async def _queue_one(
        self,
        session: AsyncSession,
        row: CadenceContact,
        debt: db.Debt,
        debtor: db.Debtor,
        contact: db.Contact,
        paused: dict[int, str],
    ) -> None:
        reason = self._debt_pause(debt) or paused.get(debtor.id)
        if contact.status != db.ContactStatus.ACTIVE:
            reason = reason or contact.status
        if reason is not None:
            row.status = Status.CANCELLED.value
            await self._record_cancel(session, row, reason)
            return
        policy = self._policies.get(debtor.creditor_id)
        if policy is None:
            row.status = Status.CANCELLED.value
            return
        step = next(
            (s for s in policy_steps(policy) if s.cadence == row.cadence and s.number == row.step), None
        )
        balance = balance_on(
            DebtPosition(
                external_id=debt.external_id,
                principal=debt.amount,
                due_date=debt.due_date,
                paid=debt.paid_amount,
            ),
            row.day,
            policy.charges,
        )
        variables: dict[str, Any] = {
            "creditor_name": policy.creditor.name,
            "debtor_name": debtor.name,
            "contact_name": (contact.name or "").split(" ")[0],
            "creditor_tax_id": policy.creditor.tax_id,
            "pix_key": policy.creditor.pix_key,
            "today": row.day,
            "balance": balance,
            "total": balance,
            "debts": [
                {
                    "external_id": debt.external_id,
                    "description": debt.description or "",
                    "amount": debt.amount,
                    "due_date": debt.due_date,
                    "days_past_due": days_past_due(debt.due_date, row.day),
                    "balance": balance,
                }
            ],
        }
        buttons = MENU_BUTTONS if step is not None and step.offer_negotiation else ()
        conversation = await ConversationRepository(session).get_or_create(contact)
        if conversation.state != db.ConversationState.BOT:
            row.status = Status.CANCELLED.value
            await self._record_cancel(
                session,
                row,
                SkipReason.HUMAN.value if conversation.state == db.ConversationState.HUMAN else "opted_out",
            )
            return
        [queued] = await self._outgoing.queue(
            session, contact, [Reply(row.template, variables, tuple(buttons))], row.idempotency_key,
            Initiator.BOT, row.at, not_after=row.window_end, debtor=debtor,
            conversation=conversation, message_key=True,
        )
        if queued.outbox is None:
            row.status = Status.SENT.value  # the web chat shows it on the debtor's next visit
        else:
            row.outbox_id = queued.outbox.id
            row.status = Status.QUEUED.value
        await AuditLog(session).record(
            AuditKind.CADENCE_REMINDER,
            "bot",
            debtor_id=debtor.id,
            conversation_id=conversation.id,
            data={
                "debt": debt.external_id,
                "cadence": row.cadence,
                "step": row.step,
                "template": row.template,
                "channel": row.channel,
                "at": row.at.isoformat(),
                "key": row.idempotency_key,
            },
        )

    async def _record_cancel(self, session: AsyncSession, row: CadenceContact, reason: str) -> None:
        statement = (
            self._insert(session, table_of(ContactDecision))
            .values(
                creditor_id=row.creditor_id,
                debtor_id=row.debtor_id,
                debt_id=row.debt_id,
                segment=row.segment,
                cadence=row.cadence,
                step=row.step,
                template=row.template,
                reason=reason[:24],
                detail="cancelled",
                first_day=row.day,
                last_day=row.day,
                days=1,
                created_at=self._clock.now(),
                updated_at=self._clock.now(),
            )
            .on_conflict_do_nothing()
        )
        await session.execute(statement)

    # -- following the outbox -------------------------------------------------------------

    async def sweep(self) -> dict[str, int]:
        """Sync with the outbox: sent, fallback on failure, cancel paused, expire missed windows."""
        stats = {"sent": 0, "fell_back": 0, "failed": 0, "cancelled": 0, "expired": 0}
        now = self._clock.now()
        async with self._sessions() as session:
            table = table_of(CadenceContact)
            outbox = table_of(OutboxMessage)
            queued = table.c.status == Status.QUEUED.value
            # Withdrawn by the dispatcher when its window closed: expired, so the régua plans
            # it again on the next allowed day (a cancelled contact is never planned again).
            after_hours = outbox.c.last_error == OUTSIDE_HOURS
            for target, statuses, which in (
                (Status.SENT, (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ), true()),
                (Status.EXPIRED, (OutboxStatus.CANCELLED,), after_hours),
                (Status.CANCELLED, (OutboxStatus.CANCELLED,), true()),
            ):
                done = await session.execute(
                    update(table)
                    .where(
                        queued,
                        table.c.outbox_id.in_(
                            select(outbox.c.id).where(outbox.c.status.in_([s.value for s in statuses]), which)
                        ),
                    )
                    .values(status=target.value, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                stats[target.value] += int(getattr(done, "rowcount", 0) or 0)
            stats["cancelled"] += await self._cancel_paused(session, now)
            stats["expired"] += await self._expire(session, now)
            await session.commit()
        fell_back, failed = await self._fall_back(now)
        stats["fell_back"] += fell_back
        stats["failed"] += failed
        return stats

    async def _cancel_paused(self, session: AsyncSession, now: datetime) -> int:
        """Queued contacts of debts that were paid, disputed or agreed, or debtors now paused."""
        table = table_of(CadenceContact)
        debts = table_of(db.Debt)
        debt_paused = select(debts.c.id).where(
            (debts.c.status != db.DebtStatus.OPEN.value) | (debts.c.amount <= debts.c.paid_amount)
        )
        debtor_paused = union(
            select(db.Agreement.debtor_id).where(db.Agreement.status == db.AgreementStatus.ACTIVE.value),
            select(Promise.debtor_id).where(Promise.status == PromiseStatus.PENDING.value),
            select(db.Contact.debtor_id)
            .join(db.Conversation, db.Conversation.contact_id == db.Contact.id)
            .where(db.Conversation.state == db.ConversationState.HUMAN.value),
        )
        rows = (
            await session.execute(
                select(table.c.id, table.c.outbox_id).where(
                    table.c.status.in_([Status.QUEUED.value, Status.PLANNED.value]),
                    table.c.debt_id.in_(debt_paused) | table.c.debtor_id.in_(debtor_paused),
                )
            )
        ).all()
        return await self._withdraw(session, rows, now, Status.CANCELLED, "cadence paused")

    async def _expire(self, session: AsyncSession, now: datetime) -> int:
        """Contacts whose window closed before they went: planned again on the next allowed day."""
        table = table_of(CadenceContact)
        rows = (
            await session.execute(
                select(table.c.id, table.c.outbox_id).where(
                    table.c.status.in_([Status.QUEUED.value, Status.PLANNED.value]), table.c.window_end <= now
                )
            )
        ).all()
        return await self._withdraw(session, rows, now, Status.EXPIRED, "outside_hours")

    async def _withdraw(self, session: AsyncSession, rows: Sequence[Any], now: datetime,
                        status: Status, reason: str) -> int:
        """Withdraw contacts whose outbox row is still pending; one already claimed or sent is
        left alone (the sweep will see its outcome). Returns how many were withdrawn."""
        table = table_of(CadenceContact)
        outbox = table_of(OutboxMessage)
        withdrawn = 0
        for row_id, outbox_id in rows:
            if outbox_id is not None:
                changed = await session.execute(
                    update(outbox)
                    .where(outbox.c.id == outbox_id, outbox.c.status == OutboxStatus.PENDING.value)
                    .values(status=OutboxStatus.CANCELLED.value, last_error=reason, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if not getattr(changed, "rowcount", 0):
                    continue
            await session.execute(
                update(table)
                .where(table.c.id == row_id)
                .values(status=status.value, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            withdrawn += 1
        return withdrawn

    async def _fall_back(self, now: datetime) -> tuple[int, int]:
        """A contact whose outbox row failed tries the step's next channel (or fails for good)."""
        fell_back = failed = 0
        async with self._sessions() as session:
            outbox = table_of(OutboxMessage)
            query = (
                select(CadenceContact)
                .where(
                    CadenceContact.status == Status.QUEUED.value,
                    CadenceContact.outbox_id.in_(
                        select(outbox.c.id).where(outbox.c.status == OutboxStatus.FAILED.value)
                    ),
                )
                .limit(self._batch)
            )
            if _dialect(session) == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = list(await session.scalars(query))
            for row in rows:
                policy = self._policies.get(row.creditor_id)
                step = (
                    next(
                        (
                            s
                            for s in policy_steps(policy)
                            if s.cadence == row.cadence and s.number == row.step
                        ),
                        None,
                    )
                    if policy
                    else None
                )
                options = [
                    ContactOption(c.id, c.channel, c.status, c.timezone)
                    for c in await session.scalars(
                        select(db.Contact).where(db.Contact.debtor_id == row.debtor_id)
                    )
                ]
                choice = (
                    choose_channel(
                        step.channels,
                        options,
                        self.channels_on,
                        after_rank=step.channels.index(row.channel) if row.channel in step.channels else -1,
                    )
                    if step is not None and policy is not None
                    else None
                )
                if choice is None or choice.contact is None or policy is None:
                    row.status = Status.FAILED.value
                    failed += 1
                    continue
                zone = choice.contact.timezone or row.timezone
                calendar = contact_calendar(policy, row.day)
                at = calendar.next_allowed(max(now, row.at), zone)
                if at is None:
                    row.status = Status.FAILED.value
                    failed += 1
                    continue
                slot = calendar.slot(at.astimezone(ZoneInfo(zone)).date(), zone)
                row.status = Status.FELL_BACK.value
                statement = (
                    self._insert(session, table_of(CadenceContact))
                    .values(
                        idempotency_key=f"{row.idempotency_key.split('|')[0]}|{choice.contact.channel}",
                        creditor_id=row.creditor_id,
                        debtor_id=row.debtor_id,
                        debt_id=row.debt_id,
                        contact_id=choice.contact.contact_id,
                        segment=row.segment,
                        cadence=row.cadence,
                        step=row.step,
                        template=row.template,
                        channel=choice.contact.channel,
                        attempt=row.attempt + 1,
                        day=row.day,
                        timezone=zone,
                        at=at,
                        window_end=slot.end if slot else at,
                        status=Status.PLANNED.value,
                        created_at=now,
                        updated_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["idempotency_key"])
                )
                await session.execute(statement)
                fell_back += 1
            await session.commit()
        if fell_back:
            await self.materialize()
        return fell_back, failed

    # -- the loop -----------------------------------------------------------------------

    async def tick(self) -> None:
        """One round: the day's follow-up once per creditor day, schedule each creditor's today
        when due, queue, follow up."""
        now = self._clock.now()
        for creditor_id, policy in self._creditors(None):
            day = self._today(policy)
            await self._follow_up(creditor_id, day, now)
            last = self._last_schedule.get((creditor_id, day))
            if last is None or now - last >= self._schedule_every:
                await self._schedule_one(creditor_id, policy, day)
        await self.materialize()
        await self.sweep()

    async def _follow_up(self, creditor: str, day: date, now: datetime) -> None:
        """Run the creditor's follow-up for its local ``day`` once (this process); a failed run
        is logged and tried again after ``schedule_every`` without holding up the régua. Other
        workers may run it too: its keys and the creditor lock make that send nothing twice."""
        if self._followup is None or (creditor, day) in self._followed_up:
            return
        tried = self._followup_tried.get((creditor, day))
        if tried is not None and now - tried < self._schedule_every:
            return
        self._followup_tried[(creditor, day)] = now
        try:
            await self._followup.run(day, creditor=creditor)
        except Exception:
            logger.exception("follow-up of %s for %s failed; tried again later", creditor, day)
            return
        self._followed_up.add((creditor, day))
        recent = day - timedelta(days=1)  # creditors in other zones may still be on yesterday
        self._followed_up = {k for k in self._followed_up if k[1] >= recent}
        self._followup_tried = {k: v for k, v in self._followup_tried.items() if k[1] >= recent}

    @contextlib.asynccontextmanager
    async def running(self, enabled: bool = True) -> AsyncIterator[None]:
        """Run the loop in the background while the block runs (the app, ``acordo worker``)."""
        if not enabled:
            yield
            return
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set (errors are logged and the next tick retries)."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                logger.exception("cadence tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._tick)
