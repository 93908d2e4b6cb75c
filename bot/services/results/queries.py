"""The dashboard's set-based SQL: the per-debtor segment table and the grouped statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, Numeric, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.policies.models import Policy
from bot.policies.segments import Fact, facts_needed
from bot.services.segment_sql import FactColumns, debtor_history, needs_history
from bot.services.segment_sql import segment_case as first_segment_sql


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
         CASE WHEN a.created_by IN ('bot', 'portal') AND (h.first_at IS NULL OR h.first_at > a.created_at)
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



# The portal as a channel: agreements the debtor accepted on the portal page in the period
# (created_by = 'portal'), their total, how many had no hand-off to a person before them
# (the rule of agreements_without_human), and the days from the debtor's first portal visit
# (the page's view, or a use of a portal link) to the agreement; beside them the period's
# portal visitors (debtors who opened the page) and links issued.
PORTAL_SQL = """
WITH viewed AS (
  SELECT e.debtor_id, MIN(e.at) AS first_at
  FROM audit_events e JOIN debtors dr ON dr.id = e.debtor_id
  WHERE dr.creditor_id = :creditor AND e.kind IN ('portal_viewed', 'portal_link_used')
  GROUP BY e.debtor_id
), handoff AS (
  SELECT debtor_id, MIN(at) AS first_at FROM audit_events WHERE kind = 'handoff' GROUP BY debtor_id
), agreed AS (
  SELECT a.debtor_id, a.created_at, a.total,
         CASE WHEN h.first_at IS NULL OR h.first_at > a.created_at THEN 1 ELSE 0 END AS no_human
  FROM agreements a JOIN debtors dr ON dr.id = a.debtor_id
  LEFT JOIN handoff h ON h.debtor_id = a.debtor_id
  WHERE dr.creditor_id = :creditor AND a.created_by = 'portal'
    AND a.created_at >= :start_at AND a.created_at < :end_at
)
SELECT COUNT(ag.debtor_id) AS agreements, SUM(ag.total) AS agreed,
       SUM(ag.no_human) AS without_human,
       SUM(CASE WHEN v.first_at <= ag.created_at THEN 1 ELSE 0 END) AS timed,
       SUM(CASE WHEN v.first_at <= ag.created_at THEN {days} ELSE 0 END) AS days_sum,
       (SELECT COUNT(DISTINCT e.debtor_id) FROM audit_events e JOIN debtors dr ON dr.id = e.debtor_id
        WHERE dr.creditor_id = :creditor AND e.kind = 'portal_viewed'
          AND e.at >= :start_at AND e.at < :end_at) AS visitors,
       (SELECT COUNT(*) FROM portal_links pl JOIN debtors dr ON dr.id = pl.debtor_id
        WHERE dr.creditor_id = :creditor AND pl.issued_at >= :start_at
          AND pl.issued_at < :end_at) AS links_issued
FROM agreed ag LEFT JOIN viewed v ON v.debtor_id = ag.debtor_id
"""


def portal_statement(dialect: str) -> str:
    return PORTAL_SQL.format(days=_days_between(dialect, "v.first_at", "ag.created_at"))
