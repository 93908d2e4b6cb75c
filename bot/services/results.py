"""The results dashboard's figures, computed by set-based SQL from the stored facts.

Nothing here keeps a counter: every figure is a grouped query over debts, payments,
agreements, promises, offers, messages and audit events for one creditor and one period
(``[start, end]`` in the creditor's time zone). Definitions are in docs/dashboard.md.

Two kinds of measures:

- **debtor measures** (overdue, recovered, agreements, promises, days to payment, resolved
  without a human, negotiations) are grouped by the debtor's *segment* (the policy's first
  matching segment, by the rule the régua uses, for the debtor's oldest due date, outstanding
  principal, face amount and payment history at the end of the period) and the debtor's
  *channel* (the channel of its first contact);
- **message measures** (contacts, cost) are grouped by the message's own channel, cadence
  step (its template's place in the policy's cadences) and template version (the newest
  saved version of that template and channel when it was sent; ``file`` before any).

Python only merges the few grouped rows into tables and ratios.
"""

from __future__ import annotations

import asyncio
import csv
import io
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, Numeric, bindparam, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import TextClause

from bot.clock import Clock
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.policies.segments import Fact, facts_needed
from bot.services.segment_sql import FactColumns, debtor_history, needs_history
from bot.services.segment_sql import segment_case as first_segment_sql
from bot.storage.staff_models import TemplateVersion
from bot.storage.types import UTCDateTime

ZERO = Decimal("0.00")
STATUSES = ("open", "in_agreement", "paid", "disputed", "written_off")
NOT_IN_CADENCE = "(not in a cadence)"


def dec(value: Any) -> Decimal:
    """A database number as an exact Decimal (SQLite returns floats for NUMERIC sums)."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def ratio(numerator: Decimal | int, denominator: Decimal | int, places: str = "0.0001") -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places), ROUND_HALF_UP)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    zone: str = "America/Sao_Paulo"

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=ZoneInfo(self.zone)).astimezone(UTC)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.zone)
                                ).astimezone(UTC)


DEBTOR_MEASURES = ("debtors", "overdue", "recovered", "agreements_made", "agreements_kept",
                   "agreements_broken", "agreements_without_human", "promises_made", "promises_kept",
                   "promises_broken", "paid_debtors_contacted", "days_to_payment_sum", "negotiations")
MESSAGE_MEASURES = ("contacts", "bot_messages", "agent_messages", "message_cost")


@dataclass
class Figures:
    """Additive measures of one group; ratios are derived."""

    values: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    def add(self, other: Mapping[str, Decimal]) -> None:
        for key, value in other.items():
            self.values[key] = self.values[key] + value

    def row(self, agent_cost: Decimal) -> dict[str, Any]:
        v = self.values
        cost = (v["message_cost"] + v["agent_messages"] * agent_cost).quantize(Decimal("0.01"))
        contacted = v["paid_debtors_contacted"]
        days = ((v["days_to_payment_sum"] / contacted).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if contacted else None)
        return {
            "debtors": int(v["debtors"]),
            "overdue": v["overdue"].quantize(Decimal("0.01")),
            "recovered": v["recovered"].quantize(Decimal("0.01")),
            "recovery_rate": ratio(v["recovered"], v["overdue"]),
            "agreements_made": int(v["agreements_made"]),
            "agreements_kept": int(v["agreements_kept"]),
            "agreements_broken": int(v["agreements_broken"]),
            "promises_made": int(v["promises_made"]),
            "promises_kept": int(v["promises_kept"]),
            "promises_broken": int(v["promises_broken"]),
            "promise_kept_rate": ratio(v["promises_kept"], v["promises_kept"] + v["promises_broken"]),
            "avg_days_to_payment": days,
            "resolved_without_human": ratio(v["agreements_without_human"], v["agreements_made"]),
            "contacts": int(v["contacts"]),
            "contacts_per_real": ratio(v["contacts"], v["recovered"]),
            "cost": cost,
            "negotiations": int(v["negotiations"]),
            "cost_per_negotiation": ratio(cost, v["negotiations"], "0.01"),
        }


@dataclass
class Results:
    creditor: str
    period: Period
    summary: dict[str, Any]
    by_status: list[dict[str, Any]]
    over_time: list[dict[str, Any]]
    by_segment: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]
    by_step: list[dict[str, Any]]
    by_template_version: list[dict[str, Any]]

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return {"summary": [self.summary], "status": self.by_status, "over_time": self.over_time,
                "segment": self.by_segment, "channel": self.by_channel, "step": self.by_step,
                "template_version": self.by_template_version}


# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: text that a spreadsheet would run as a formula gets a leading
    ``'`` (numbers stay numbers: a negative Decimal is not text from outside)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV, every cell quoted and formula-looking text escaped (:func:`csv_cell`)."""
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=[csv_cell(k) for k in rows[0]],
                                lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writeheader()
        for row in rows:
            writer.writerow({csv_cell(k): csv_cell(v) for k, v in row.items()})
    return buffer.getvalue()


# -- SQL ------------------------------------------------------------------------------------


def _days_between(dialect: str, start: str, end: str) -> str:
    if dialect == "postgresql":
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"
    return f"(julianday({end}) - julianday({start}))"


@dataclass(frozen=True)
class DebtorSegments:
    """The dashboard's segment of each debtor: the policy's segments (the one rule of
    :mod:`bot.policies.segments`, rendered by :mod:`bot.services.segment_sql`) over the
    debtor's facts at the period's end: the oldest due date for ``days_past_due``, the total
    unpaid principal for ``balance``, the total face amount for ``amount``, and the payment
    history the régua uses (``broken_promises``, ``past_days_late``)."""

    policy: Policy
    end: date

    def needs(self, fact: Fact) -> bool:
        return fact in facts_needed(self.policy.segments)

    def case_sql(self, dialect: str) -> str:
        history = needs_history(self.policy.segments)
        columns = FactColumns(
            self.end,
            due_date=literal_column("f.min_due", Date),
            balance=literal_column("f.outstanding", Numeric),
            amount=literal_column("f.face", Numeric),
            broken_promises=literal_column("h.broken", Integer) if history else None,
            past_days_late=literal_column("h.late", Integer) if history else None,
        )
        return _literal_sql(first_segment_sql(self.policy.segments, columns), dialect)

    def history_join(self, dialect: str) -> str:
        if not needs_history(self.policy.segments):
            return ""
        history = select(debtor_history(dialect, self.end))
        return f" LEFT JOIN ({_literal_sql(history, dialect)}) h ON h.debtor_id = f.debtor_id"


def _literal_sql(clause: Any, dialect: str) -> str:
    """A Core clause as SQL text with its values inline (dates, decimals, segment names that
    the policy schema restricts to ``[a-z0-9_]``): it goes into the dashboard's text SQL."""
    target: Any = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()  # type: ignore[no-untyped-call]
    return str(clause.compile(dialect=target, compile_kwargs={"literal_binds": True}))


def segment_table_sql(segments: DebtorSegments, dialect: str, table: str = "results_seg") -> str:
    """One row per contact of each debtor of the creditor (one for a debtor without any):
    the debtor's segment, the contact's conversation, and on the debtor's first contact
    (``first = 1``) the channel of that contact and the debtor's principal due by the
    period's end (one pass over the debts, ``GROUP BY debtor_id``).

    Built once per dashboard and read by the debtor figures (``first = 1``), the message
    figures (by conversation) and the last touch: on PostgreSQL an unlogged table of its
    own (read by several connections at once, dropped at the end), on SQLite a temporary
    table.
    """
    # Only the aggregates a segment condition needs.
    outstanding = f" SUM({UNPAID}) AS outstanding," if segments.needs(Fact.BALANCE) else ""
    face = " SUM(amount) AS face," if segments.needs(Fact.AMOUNT) else ""
    return f"""
CREATE {table_kind(dialect)} {table} AS
WITH f AS (
  SELECT debtor_id, MIN(due_date) AS min_due,{outstanding}{face}
         SUM(CASE WHEN due_date <= :end_date THEN amount ELSE 0 END) AS overdue
  FROM debts WHERE creditor_id = :creditor GROUP BY debtor_id
), c AS (
  SELECT ct.debtor_id, ct.channel, cv.id AS conversation_id,
         CASE WHEN ct.id = MIN(ct.id) OVER (PARTITION BY ct.debtor_id) THEN 1 ELSE 0 END AS first
  FROM contacts ct LEFT JOIN conversations cv ON cv.contact_id = ct.id
)
SELECT f.debtor_id, c.conversation_id, {segments.case_sql(dialect)} AS segment, COALESCE(c.first, 1) AS first,
       COALESCE(c.channel, 'none') AS channel, f.overdue
FROM f LEFT JOIN c ON c.debtor_id = f.debtor_id{segments.history_join(dialect)}
"""


def table_kind(dialect: str) -> str:
    return "UNLOGGED TABLE" if dialect == "postgresql" else "TEMPORARY TABLE"


SHARED_PREFIXES = ("results_seg_",)
SHARED_TABLES_KEPT = 3600  # seconds: older shared tables were left by a process that died


# The creditor's payments of the period (a few thousand rows, each debt by its key), read by
# the debtor figures (through results_paid), the last touch and the recovery by day.
PERIOD_PAYMENTS = """FROM payments p JOIN debts d ON d.id = p.debt_id
WHERE d.creditor_id = :creditor AND p.paid_at >= :start_at AND p.paid_at < :end_at"""

# The period's payments with their debtor, once, for the debtor figures.
PAID_TABLE_SQL = """
CREATE TEMPORARY TABLE results_paid{on_commit} AS
SELECT d.debtor_id, p.amount, p.paid_at
""" + PERIOD_PAYMENTS


# Debtor measures by (segment, channel) in one statement. Each source (payments, agreements,
# promises, offers of the period) is reduced to rows keyed by debtor, the rows are joined to
# the debtor's segment once and summed; only paying debtors are looked at one by one (their
# first contact: the oldest message of each of their conversations, by the
# (conversation_id, id) index).
DEBTOR_SQL = """
WITH paid AS (
  SELECT debtor_id, SUM(amount) AS recovered, MIN(paid_at) AS first_paid FROM results_paid GROUP BY debtor_id
), contacted AS (
  SELECT c.debtor_id, MIN(c.first_at) AS first_at
  FROM (SELECT ct.debtor_id, (SELECT m.created_at FROM messages m WHERE m.conversation_id = cv.id
                              ORDER BY m.id LIMIT 1) AS first_at
        FROM paid JOIN contacts ct ON ct.debtor_id = paid.debtor_id
        JOIN conversations cv ON cv.contact_id = ct.id) c
  GROUP BY c.debtor_id
), handoff AS (
  SELECT debtor_id, MIN(at) AS first_at FROM audit_events WHERE kind = 'handoff' GROUP BY debtor_id
), touched AS (
  SELECT paid.debtor_id, paid.recovered, 0 AS a_made, 0 AS a_kept, 0 AS a_broken, 0 AS a_wh,
         0 AS p_made, 0 AS p_kept, 0 AS p_broken, 0 AS negotiations,
         CASE WHEN contacted.first_at < paid.first_paid THEN 1 ELSE 0 END AS contacted,
         CASE WHEN contacted.first_at < paid.first_paid THEN {days} ELSE 0 END AS days
  FROM paid LEFT JOIN contacted ON contacted.debtor_id = paid.debtor_id
  UNION ALL
  SELECT a.debtor_id, 0, 1, CASE WHEN a.status = 'kept' THEN 1 ELSE 0 END,
         CASE WHEN a.status = 'broken' THEN 1 ELSE 0 END,
         CASE WHEN a.created_by = 'bot' AND (h.first_at IS NULL OR h.first_at > a.created_at)
              THEN 1 ELSE 0 END, 0, 0, 0, 0, 0, 0
  FROM agreements a LEFT JOIN handoff h ON h.debtor_id = a.debtor_id
  WHERE a.created_at >= :start_at AND a.created_at < :end_at
  UNION ALL
  SELECT debtor_id, 0, 0, 0, 0, 0, 1, CASE WHEN status = 'kept' THEN 1 ELSE 0 END,
         CASE WHEN status = 'broken' THEN 1 ELSE 0 END, 0, 0, 0
  FROM promises WHERE created_at >= :start_at AND created_at < :end_at
  UNION ALL
  SELECT debtor_id, 0, 0, 0, 0, 0, 0, 0, 0, COUNT(DISTINCT conversation_id), 0, 0
  FROM offers WHERE created_at >= :start_at AND created_at < :end_at GROUP BY debtor_id
), per_group AS (
  SELECT seg.segment, seg.channel, SUM(t.recovered) AS recovered,
         SUM(t.a_made) AS agreements_made, SUM(t.a_kept) AS agreements_kept,
         SUM(t.a_broken) AS agreements_broken, SUM(t.a_wh) AS agreements_without_human,
         SUM(t.p_made) AS promises_made, SUM(t.p_kept) AS promises_kept, SUM(t.p_broken) AS promises_broken,
         SUM(t.contacted) AS paid_debtors_contacted, SUM(t.days) AS days_to_payment_sum,
         SUM(t.negotiations) AS negotiations
  FROM touched t JOIN {seg} seg ON seg.debtor_id = t.debtor_id AND seg.first = 1
  GROUP BY seg.segment, seg.channel
), population AS (
  SELECT segment, channel, COUNT(*) AS debtors, SUM(overdue) AS overdue
  FROM {seg} WHERE first = 1 GROUP BY segment, channel
)
SELECT population.segment, population.channel, population.debtors, population.overdue,
       COALESCE(g.recovered, 0) AS recovered, COALESCE(g.agreements_made, 0) AS agreements_made,
       COALESCE(g.agreements_kept, 0) AS agreements_kept,
       COALESCE(g.agreements_broken, 0) AS agreements_broken,
       COALESCE(g.agreements_without_human, 0) AS agreements_without_human,
       COALESCE(g.promises_made, 0) AS promises_made, COALESCE(g.promises_kept, 0) AS promises_kept,
       COALESCE(g.promises_broken, 0) AS promises_broken,
       COALESCE(g.paid_debtors_contacted, 0) AS paid_debtors_contacted,
       COALESCE(g.days_to_payment_sum, 0) AS days_to_payment_sum,
       COALESCE(g.negotiations, 0) AS negotiations
FROM population LEFT JOIN per_group g ON g.segment = population.segment AND g.channel = population.channel
"""


def debtor_statement(seg: str, dialect: str) -> str:
    """:data:`DEBTOR_SQL` over the segment table ``seg`` and ``results_paid``."""
    return DEBTOR_SQL.format(seg=seg, days=_days_between(dialect, "contacted.first_at", "paid.first_paid"))


# What is still owed of a debt's face amount: an overpaid debt owes nothing (not less).
UNPAID = "CASE WHEN amount > paid_amount THEN amount - paid_amount ELSE 0 END"
STATUS_SQL = f"""
SELECT status, COUNT(*) AS debts, SUM(amount) AS amount, SUM({UNPAID}) AS outstanding
FROM debts WHERE creditor_id = :creditor GROUP BY status
"""


# Message measures: the outbound messages of the period (the partial index on
# messages(created_at) WHERE direction = 'out' covers every column read) joined to the
# per-contact table by conversation, grouped by the few message dimensions.
# Grouped by position: with no saved template version ``{version}`` is the constant 'file',
# which PostgreSQL refuses in a GROUP BY.
MESSAGE_SQL = """
SELECT seg.segment, m.channel, COALESCE(m.template, '') AS template, {version} AS version,
       m.author, COUNT(*) AS messages
FROM messages m JOIN {seg} seg ON seg.conversation_id = m.conversation_id
WHERE m.direction = 'out' AND m.created_at >= :start_at AND m.created_at < :end_at
GROUP BY 1, 2, 3, 4, 5
"""

# Outcomes by the régua's last touch: each payment and each agreement of the period is
# credited to the debtor's last outbound message with a cadence template sent before it
# (``"<template> <version>"``; none: "(not in a cadence)"). One short backward probe per
# outcome on the partial index ix_messages_touch (messages(conversation_id, created_at)
# INCLUDE (template, channel, id) WHERE direction = 'out' AND template IS NOT NULL), which
# answers it alone; the outcomes are then grouped by their touch. Needs neither the
# per-debtor table nor the payments table: it runs beside them on the other connection.
TOUCH_SQL = """
WITH outcome AS (
  SELECT 'payment' AS kind, d.debtor_id, p.amount, p.paid_at AS at
  """ + PERIOD_PAYMENTS + """
  UNION ALL
  SELECT 'agreement', a.debtor_id, a.total, a.created_at
  FROM agreements a JOIN debtors dr ON dr.id = a.debtor_id
  WHERE dr.creditor_id = :creditor AND a.created_at >= :start_at AND a.created_at < :end_at
), touched AS (
  SELECT o.kind, o.amount,
         (SELECT m.template || ' ' || {version} FROM messages m
          WHERE m.conversation_id IN (SELECT cv.id FROM conversations cv
                                      JOIN contacts ct ON ct.id = cv.contact_id
                                      WHERE ct.debtor_id = o.debtor_id)
            AND m.direction = 'out' AND m.template IS NOT NULL AND m.template IN :touch_templates
            AND m.created_at <= o.at
          ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS touch
  FROM outcome o
)
SELECT kind, COALESCE(touch, '') AS touch, COUNT(*) AS outcomes, SUM(amount) AS amount
FROM touched GROUP BY kind, COALESCE(touch, '')
"""

OVER_TIME_SQL = """
SELECT {day} AS day, SUM(p.amount) AS recovered
""" + PERIOD_PAYMENTS + """
GROUP BY {day} ORDER BY {day}
"""


class ResultsService:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policies: PolicyBook,
                 message_costs: Mapping[str, Decimal], agent_cost_per_hour: Decimal,
                 agent_minutes_per_message: Decimal, clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._policies = policies
        self._message_costs = dict(message_costs)
        self._agent_cost = (agent_cost_per_hour * agent_minutes_per_message / 60)

    def period(self, creditor: str, start: date, end: date) -> Period:
        return Period(start, end, self._policies[creditor].creditor.timezone)

    async def compute(self, creditor: str, start: date, end: date) -> Results:
        policy = self._policies[creditor]
        period = self.period(creditor, start, end)
        segment = DebtorSegments(policy, end)
        params: dict[str, Any] = dict(creditor=creditor, end_date=end, start_at=period.start_at,
                                      end_at=period.end_at, touch_templates=sorted(cadence_steps(policy)))
        async with self._sessions() as session:
            versions = await self._version_case(session, params)
        # Two chains at once: the per-debtor one (segment table, then the debtor and message
        # figures side by side) and the rest (debts by status, recovery over time, last touch).
        (debtor_rows, message_rows), (status_rows, time_rows, touch_rows) = await asyncio.gather(
            self._debtor_figures(segment, versions, dict(params)),
            self._portfolio_figures(policy, period, versions, dict(params)))
        return self._assemble(creditor, policy, period, debtor_rows, status_rows, message_rows, time_rows,
                              touch_rows)

    async def _begin(self, session: AsyncSession) -> str:
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            # The grouped joins are cheap but their estimates are not: PostgreSQL's JIT would
            # spend a second compiling them; and the per-debtor aggregates fit in memory.
            await session.execute(text("SET LOCAL jit = off"))
            await session.execute(text("SET LOCAL work_mem = '64MB'"))
            # A dashboard reads recent, cached pages: an index probe costs about a sequential
            # read (otherwise a period's few thousand payments are joined to their debts by a
            # scan of every debt).
            await session.execute(text("SET LOCAL random_page_cost = 1.1"))
        return dialect

    async def _debtor_figures(self, segment: DebtorSegments, versions: str, params: dict[str, Any]
                              ) -> tuple[list[Any], list[Any]]:
        """The per-contact segment table, then the debtor and message figures.

        PostgreSQL: the segment table is an unlogged table of this request, committed so that
        the message figures (one connection) and the debtor figures (another, which reads the
        period's payments into its temporary table while the segment table is being built)
        run side by side; dropped at the end. SQLite: one connection, temporary tables.
        """
        async with self._sessions() as session:
            dialect = await self._begin(session)
            if dialect != "postgresql":
                return await self._debtor_figures_here(session, segment, versions, params)
            seg = f"results_seg_{int(self._clock.now().timestamp())}_{secrets.token_hex(4)}"
            debtor_sql = debtor_statement(seg, dialect)
            seg_ready = asyncio.Event()
            debtor_rows = asyncio.ensure_future(self._debtor_rows(debtor_sql, params, seg_ready))
            try:
                await self._drop_stale(session)
                # Debts and first contacts both come in debtor order from their covering
                # indexes (ix_debts_creditor_debtor, ix_contacts_debtor_first): a streaming
                # group and merge beat hashing 200,000 numeric sums (about half the time).
                await self._planner(session, "off")
                await session.execute(self._sql(segment_table_sql(segment, dialect, seg), params))
                await self._planner(session, "on")
                await session.execute(text(f"ANALYZE {seg}"))
                await session.commit()
                seg_ready.set()
                message_rows = await self._rows(MESSAGE_SQL.format(seg=seg, version=versions), params)
                return await debtor_rows, message_rows
            finally:
                if not debtor_rows.done():
                    debtor_rows.cancel()
                await asyncio.gather(debtor_rows, return_exceptions=True)
                await session.rollback()
                await session.execute(text(f"DROP TABLE IF EXISTS {seg}"))
                await session.commit()

    async def _debtor_figures_here(self, session: AsyncSession, segment: DebtorSegments, versions: str,
                                   params: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
        """SQLite: the same statements one after the other on one connection."""
        for table in ("results_seg", "results_paid"):
            await session.execute(text(f"DROP TABLE IF EXISTS temp.{table}"))
        await session.execute(self._sql(segment_table_sql(segment, "sqlite"), params))
        await session.execute(self._sql(PAID_TABLE_SQL.format(on_commit=""), params))
        await session.execute(text("ANALYZE temp"))
        debtor_rows = (await session.execute(self._sql(debtor_statement("results_seg", "sqlite"), params))
                       ).mappings().all()
        message_rows = (await session.execute(self._sql(
            MESSAGE_SQL.format(seg="results_seg", version=versions), params))).mappings().all()
        await session.rollback()
        return list(debtor_rows), list(message_rows)

    async def _debtor_rows(self, debtor_sql: str, params: Mapping[str, Any], seg_ready: asyncio.Event
                           ) -> list[Any]:
        """PostgreSQL: the period's payments with their debtor (a temporary table of this
        transaction), then, once the segment table is committed, the debtor figures."""
        async with self._sessions() as session:
            await self._begin(session)
            await session.execute(self._sql(PAID_TABLE_SQL.format(on_commit=" ON COMMIT DROP"), params))
            await session.execute(text("ANALYZE results_paid"))
            await seg_ready.wait()
            rows = list((await session.execute(self._sql(debtor_sql, params))).mappings().all())
            await session.rollback()
        return rows

    async def _rows(self, sql: str, params: Mapping[str, Any]) -> list[Any]:
        async with self._sessions() as session:
            await self._begin(session)
            rows = list((await session.execute(self._sql(sql, params))).mappings().all())
            await session.rollback()
        return rows

    async def _drop_stale(self, session: AsyncSession) -> None:
        """Drop the shared tables a dashboard left behind when its process died."""
        names = (await session.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE 'results%'"))).scalars().all()
        cutoff = self._clock.now().timestamp() - SHARED_TABLES_KEPT
        stale = [n for n in names if n.startswith(SHARED_PREFIXES)
                 and n.split("_")[2].isdigit() and int(n.split("_")[2]) < cutoff]
        if stale:
            await session.execute(text("DROP TABLE IF EXISTS " + ", ".join(stale)))
            await session.commit()
            await self._begin(session)

    async def _portfolio_figures(self, policy: Policy, period: Period, versions: str,
                                 params: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
        async with self._sessions() as session:
            dialect = await self._begin(session)
            status_rows = (await session.execute(self._sql(STATUS_SQL, params))).mappings().all()
            if dialect == "postgresql":
                day, params["zone"] = "date(p.paid_at AT TIME ZONE :zone)", policy.creditor.timezone
            else:  # SQLite keeps UTC: shift by the zone's offset at the start of the period
                offset = ZoneInfo(period.zone).utcoffset(period.start_at.replace(tzinfo=None)) or timedelta(0)
                day, params["shift"] = "date(p.paid_at, :shift)", f"{int(offset.total_seconds())} seconds"
            time_rows = (await session.execute(self._sql(OVER_TIME_SQL.format(day=day), params))
                         ).mappings().all()
            touch_rows = (await session.execute(self._sql(TOUCH_SQL.format(version=versions), params))
                          ).mappings().all()
            await session.rollback()
        return list(status_rows), list(time_rows), list(touch_rows)

    @staticmethod
    async def _planner(session: AsyncSession, hashing: str) -> None:
        for setting in ("enable_hashagg", "enable_hashjoin", "enable_seqscan"):
            await session.execute(text(f"SET LOCAL {setting} = {hashing}"))

    @staticmethod
    def _sql(sql: str, params: Mapping[str, Any]) -> TextClause:
        binds = [bindparam(k, value=v, type_=UTCDateTime()) if isinstance(v, datetime)
                 else bindparam(k, value=v, expanding=True) if isinstance(v, list)
                 else bindparam(k, value=v) for k, v in params.items() if f":{k}" in sql]
        return text(sql).bindparams(*binds)

    async def _version_case(self, session: AsyncSession, params: dict[str, Any]) -> str:
        """``CASE`` naming the template version in force when each message was sent."""
        rows = (await session.execute(select(TemplateVersion.name, TemplateVersion.channel,
                                             TemplateVersion.version, TemplateVersion.created_at)
                                      .order_by(TemplateVersion.created_at.desc()))).all()
        branches = []
        for index, (name, channel, version, created_at) in enumerate(rows[:200]):
            params[f"tv{index}_name"], params[f"tv{index}_at"] = name, created_at
            params[f"tv{index}_label"] = f"v{version}"
            channel_cond = f" AND m.channel = :tv{index}_channel" if channel else ""
            if channel:
                params[f"tv{index}_channel"] = channel
            branches.append(f"WHEN m.template = :tv{index}_name{channel_cond} "
                            f"AND m.created_at >= :tv{index}_at THEN :tv{index}_label")
        return f"CASE {' '.join(branches)} ELSE 'file' END" if branches else "'file'"

    # -- assembling -----------------------------------------------------------------------

    def _assemble(self, creditor: str, policy: Policy, period: Period,
                  debtor_rows: Iterable[Any], status_rows: Iterable[Any],
                  message_rows: Iterable[Any], time_rows: Iterable[Any],
                  touch_rows: Iterable[Any]) -> Results:
        total = Figures()
        segments: dict[str, Figures] = defaultdict(Figures)
        channels: dict[str, Figures] = defaultdict(Figures)
        steps: dict[str, Figures] = defaultdict(Figures)
        versions: dict[str, Figures] = defaultdict(Figures)
        for row in debtor_rows:
            measures = {key: dec(row[key]) for key in DEBTOR_MEASURES}
            for bucket in (total, segments[row["segment"]], channels[row["channel"]]):
                bucket.add(measures)
        step_of = cadence_steps(policy)
        for row in message_rows:
            count = Decimal(row["messages"])
            cost = self._message_costs.get(row["channel"], ZERO) * count
            measures = {"contacts": count, "message_cost": cost,
                        "bot_messages": count if row["author"] == "bot" else ZERO,
                        "agent_messages": count if row["author"] == "agent" else ZERO}
            template = row["template"] or ("(agent)" if row["author"] == "agent" else "(none)")
            for bucket in (total, segments[row["segment"]], channels[row["channel"]],
                           steps[step_of.get(row["template"], NOT_IN_CADENCE)],
                           versions[f"{template} {row['version']}"]):
                bucket.add(measures)
        for row in touch_rows:  # outcomes credited to the régua's last touch (step, version)
            if row["kind"] == "payment":
                measures = {"recovered": dec(row["amount"]), "payments": Decimal(row["outcomes"])}
            else:
                measures = {"agreements_made": Decimal(row["outcomes"])}
            step = step_of.get(row["touch"].rpartition(" ")[0], NOT_IN_CADENCE)
            for bucket in (steps[step], versions[row["touch"] or NOT_IN_CADENCE]):
                bucket.add(measures)
        agent_cost = self._agent_cost
        summary = total.row(agent_cost)
        status: dict[str, dict[str, Any]] = {s: {"status": s, "debts": 0, "amount": ZERO, "outstanding": ZERO}
                                             for s in STATUSES}
        for row in status_rows:
            entry = status[row["status"]]
            entry["debts"] += int(dec(row["debts"]))
            entry["amount"] += dec(row["amount"])
            entry["outstanding"] += dec(row["outstanding"])
        over_time, cumulative = [], ZERO
        for row in time_rows:
            cumulative += dec(row["recovered"])
            over_time.append({"day": str(row["day"]), "recovered": dec(row["recovered"]),
                              "cumulative": cumulative,
                              "recovery_rate": ratio(cumulative, summary["overdue"])})

        def table(groups: Mapping[str, Figures], label: str,
                  order: Sequence[str] = ()) -> list[dict[str, Any]]:
            keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
            return [{label: key, **groups[key].row(agent_cost)} for key in keys]

        def touch_table(groups: Mapping[str, Figures], label: str, order: Sequence[str] = ()
                        ) -> list[dict[str, Any]]:
            return [{label: r[label], **{c: r[c] for c in ("contacts", "cost")},
                     "payments": int(groups[r[label]].values["payments"]),
                     **{c: r[c] for c in ("recovered", "agreements_made", "contacts_per_real")}}
                    for r in table(groups, label, order)]

        return Results(
            creditor=creditor, period=period, summary=summary,
            by_status=[{**v, "amount": v["amount"].quantize(Decimal("0.01")),
                        "outstanding": v["outstanding"].quantize(Decimal("0.01"))} for v in status.values()],
            over_time=over_time,
            by_segment=table(segments, "segment", [s.name for s in policy.segments]),
            by_channel=table(channels, "channel", ["web", "telegram", "whatsapp", "sms"]),
            by_step=touch_table(steps, "step", [*sorted(set(step_of.values())), NOT_IN_CADENCE]),
            by_template_version=touch_table(versions, "template_version"),
        )


def cadence_steps(policy: Policy) -> dict[str, str]:
    """Template name -> ``cadence#n (day d)`` for every step of the policy's cadences."""
    steps: dict[str, str] = {}
    for name, cadence in policy.cadence.items():
        for index, step in enumerate(cadence, start=1):
            steps.setdefault(step.template, f"{name} #{index} (day {step.day:+d})")
    return steps
