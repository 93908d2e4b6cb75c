"""Results dashboard on a large portfolio: 1,000,000 invoices and 5,000,000 messages on PostgreSQL.

Creates a fresh database ``acordo_bench_dashboard_<random>`` on the server at
``ACORDO_BENCH_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``),
migrates it, bulk-loads a synthetic portfolio (200,000 debtors with 5 invoices each, 25
messages per debtor over a year, agreements, installments, promises, payments, hand-offs)
with set-based ``INSERT ... SELECT generate_series`` on the server plus ``COPY`` through
asyncpg for the template versions, ``VACUUM (ANALYZE)``s, then times the dashboard: every
figure (``ResultsService.compute``) and the whole HTML page, for 30-day, 90-day and 365-day
periods, each ``--repeat`` times *cold-ish* (a fresh engine: new server connections, right
after the other periods ran) and *warm* (the same period again), and prints the medians and
the load average (other work on the machine skews every timing). ``--explain`` then prints,
per period, every statement's ``EXPLAIN ANALYZE`` time and the plan of the slowest. The
database is dropped at the end (``--keep`` keeps it; ``--database NAME`` reuses a loaded one).
Run: ``python -m bench.dashboard [--repeat 5] [--explain]``; exit status 1 when the 30-day
page's median is 2 s or more.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.clock import SystemClock
from bot.policies import load_policies
from bot.services.results.service import ResultsService
from bot.staff.deps import staff_pages
from bot.staff.results_dashboard import _charts, _view_table, shown
from bot.storage import create_engine, migrate, session_factory
from bot.storage.uow import unit_of_work

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("ACORDO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DEBTORS = int(os.environ.get("ACORDO_BENCH_DEBTORS", "200000"))
INVOICES_PER_DEBTOR = 5
MESSAGES_PER_DEBTOR = 25
LIMIT_SECONDS = 2.0

LOAD = [
    ("creditor", "INSERT INTO creditors (id, name, tax_id, created_at) "
                 "VALUES ('demo', 'Distribuidora Exemplo Ltda', '11.222.333/0001-81', now())"),
    ("debtors", """INSERT INTO debtors (id, creditor_id, external_id, name, tax_id, timezone, locale,
                   created_at, updated_at)
                   SELECT g, 'demo', 'D' || g, 'Debtor ' || g, NULL, 'America/Sao_Paulo', 'pt-BR',
                       now(), now()
                   FROM generate_series(1, {n}) g"""),
    ("contacts", """INSERT INTO contacts (id, debtor_id, name, channel, address, status, created_at)
                    SELECT g, g, 'Contact', (ARRAY['web','telegram','whatsapp','sms'])[1 + g % 4],
                           'c' || g, 'active', now() FROM generate_series(1, {n}) g"""),
    ("conversations", """INSERT INTO conversations (id, public_id, contact_id, channel, address, state,
                         fallback_count, created_at, updated_at)
                         SELECT g, md5(g::text), g, (ARRAY['web','telegram','whatsapp','sms'])[1 + g % 4],
                                'c' || g, CASE WHEN g % 50 = 0 THEN 'human' ELSE 'bot' END, 0, now(), now()
                         FROM generate_series(1, {n}) g"""),
    ("debts (1,000,000 invoices)", """INSERT INTO debts (id, creditor_id, debtor_id, external_id,
        amount, currency,
                 due_date, description, paid_amount, status, created_at, updated_at)
                 SELECT g, 'demo', 1 + (g - 1) / {per}, 'NF' || g, (100 + (g * 37) % 9900)::numeric(14, 2),
                        'BRL', date '2026-01-01' + ((g * 13) % 330), '',
                        CASE WHEN g % 5 = 0 THEN (100 + (g * 37) % 9900)::numeric(14, 2) ELSE 0 END,
                        CASE WHEN g % 5 = 0 THEN 'paid' WHEN g % 7 = 0 THEN 'in_agreement'
                             WHEN g % 97 = 0 THEN 'disputed' ELSE 'open' END, now(), now()
                 FROM generate_series(1, {n} * {per}) g"""),
    ("messages (5,000,000)", """INSERT INTO messages (id, conversation_id, direction, author, channel, text,
                 template, status, created_at, updated_at)
                 SELECT g, 1 + (g - 1) / {msgs}, CASE WHEN g % 3 = 0 THEN 'in' ELSE 'out' END,
                        CASE WHEN g % 3 = 0 THEN 'debtor' WHEN g % 41 = 0 THEN 'agent' ELSE 'bot' END,
                        (ARRAY['web','telegram','whatsapp','sms'])[1 + ((g - 1) / {msgs} + 1) % 4], 'msg',
                        CASE WHEN g % 3 = 0 OR g % 41 = 0 THEN NULL
                             ELSE (ARRAY['reminder_upcoming','overdue_first','overdue_offer',
                                         'offer_installments','greet'])[1 + g % 5] END,
                        'sent', ts, ts
                 FROM (SELECT g,
                     {t0} + ((g::bigint * 7919) % 31536000) * {sec}
                       AS ts FROM generate_series(1, {n} * {msgs}) g) s"""),
    ("offers", """INSERT INTO offers (id, conversation_id, debtor_id, kind, balance, total, discount_percent,
                 monthly_interest_percent, installments, status, created_by, created_at)
                 SELECT g, g * 4, g * 4, 'installments', 3000, 3100, 0, 1, '[]', 'accepted',
                        CASE WHEN g % 9 = 0 THEN 'agent' ELSE 'bot' END,
                        {t0} + ((g::bigint * 7919) % 31536000) * {sec}
                 FROM generate_series(1, {n} / 4) g"""),
    ("agreements", """INSERT INTO agreements (id, debtor_id, offer_id, kind, total, discount_percent, status,
                 created_by, created_at)
                 SELECT o.id, o.debtor_id, o.id, 'installments', 3100, 0,
                        (ARRAY['active','kept','broken'])[1 + o.id % 3], o.created_by, o.created_at
                 FROM offers o"""),
    ("installments", """INSERT INTO installments (agreement_id, number, due_date, amount, paid_amount, status)
                 SELECT a.id, n, (a.created_at + n * interval '30 days')::date, 1033.33,
                        CASE WHEN a.status = 'kept' THEN 1033.33 ELSE 0 END,
                        CASE WHEN a.status = 'kept' THEN 'paid' ELSE 'open' END
                 FROM agreements a CROSS JOIN generate_series(1, 3) n"""),
    ("payments", """INSERT INTO payments (debt_id, amount, paid_at, reference, created_at)
                 SELECT d.id, d.amount,
                     timestamptz '2026-02-01 15:00+00' + ((d.id::bigint * 104729) % 28000000)
                        * interval '1 second', NULL, now()
                 FROM debts d WHERE d.status = 'paid'"""),
    ("promises", """INSERT INTO promises (debtor_id, promised_date, amount, balance, status, created_at)
                 SELECT g * 10, date '2026-01-05' + (g % 330), NULL, 1000,
                        (ARRAY['pending','kept','broken'])[1 + g % 3],
                        {t0} + ((g::bigint * 7919) % 28000000) * {sec}
                 FROM generate_series(1, {n} / 10) g"""),
    ("hand-offs", """INSERT INTO audit_events (at, actor, kind, debtor_id, data)
                 SELECT {t0} + ((g::bigint * 7919) % 31536000) * {sec},
                        'bot', 'handoff', g * 25, '{{}}'
                 FROM generate_series(1, {n} / 25) g"""),
]


def dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def load(url: str) -> None:
    connection = await asyncpg.connect(dsn(url))
    try:
        for label, sql in LOAD:
            started = time.perf_counter()
            await connection.execute(sql.format(
                n=DEBTORS, per=INVOICES_PER_DEBTOR, msgs=MESSAGES_PER_DEBTOR,
                t0="timestamptz '2026-01-01 12:00+00'", sec="interval '1 second'"))
            print(f"  loaded {label:<28} {time.perf_counter() - started:6.1f} s")
        await connection.copy_records_to_table(
            "template_versions", columns=["name", "locale", "channel", "version", "source", "author",
                                          "created_at"],
            records=[("overdue_first", "pt-BR", "", v, "x", "bench", datetime(2026, v * 2, 1, tzinfo=UTC))
                     for v in range(1, 6)])
        for table in ("debts", "messages", "payments", "agreements", "promises", "offers", "audit_events",
                      "contacts", "conversations"):
            await connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT coalesce(max(id), 1) FROM {table}))")
        started = time.perf_counter()
        # A bulk load leaves no visibility map: VACUUM as autovacuum would have (index-only scans).
        await connection.execute("VACUUM (ANALYZE)")
        print(f"  vacuum, analyze {time.perf_counter() - started:6.1f} s")
        counts = {t: await connection.fetchval(f"SELECT count(*) FROM {t}") for t in ("debts", "messages")}
        print(f"  {counts['debts']:,} invoices, {counts['messages']:,} messages")
    finally:
        await connection.close()


async def render(service: ResultsService, start: date, end: date) -> tuple[float, float, int]:
    started = time.perf_counter()
    results = await service.compute("demo", start, end)
    computed = time.perf_counter() - started
    cards = [(k, shown(k, results.summary[k])) for k in ("recovery_rate", "recovered", "overdue")]
    html = staff_pages().get_template("results.html").render(
        staff=None, creditor="demo", creditors=["demo"], start=start, end=end, cards=cards,
        charts=_charts(results), tables=[_view_table(n, r) for n, r in results.tables().items()])
    return computed, time.perf_counter() - started, len(html)


PERIODS = (("30 days", date(2026, 10, 1), date(2026, 10, 30)),
           ("90 days", date(2026, 8, 1), date(2026, 10, 29)),
           ("365 days", date(2026, 1, 1), date(2026, 12, 31)))


def make_service(engine: AsyncEngine) -> ResultsService:
    return ResultsService(unit_of_work(session_factory(engine)), load_policies(ROOT / "policies"),
                          {"web": Decimal("0"), "telegram": Decimal("0"),
                           "whatsapp": Decimal("0.40"), "sms": Decimal("0.10")},
                          Decimal("40"), Decimal("2"), SystemClock())


async def time_periods(url: str, repeat: int) -> float:
    """Each period ``repeat`` times: *cold-ish* (a fresh engine, so new server connections
    with empty plan and catalogue caches, right after the other periods ran) then *warm*
    (the same period again). Prints every run and the medians; returns the worst median."""
    runs: dict[tuple[str, str], list[float]] = {}
    sizes: dict[str, int] = {}
    for attempt in range(1, repeat + 1):
        for label, start, end in PERIODS:
            engine = create_engine(url)
            try:
                service = make_service(engine)
                for kind in ("cold", "warm"):
                    computed, total, sizes[label] = await render(service, start, end)
                    runs.setdefault((label, kind), []).append(total)
                    print(f"  run {attempt}: {label:<8} {kind}: figures {computed:5.2f} s, "
                          f"page {total:5.2f} s")
            finally:
                await engine.dispose()
    print(f"medians of {repeat} run(s) (load average now {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores):")
    worst = 0.0
    for label, _start, _end in PERIODS:
        cold, warm = (statistics.median(runs[(label, k)]) for k in ("cold", "warm"))
        worst = max(worst, cold, warm) if label == PERIODS[0][0] else worst
        print(f"  dashboard {label:<8}: cold-ish {cold:5.2f} s, warm {warm:5.2f} s "
              f"(min {min(runs[(label, 'warm')]):5.2f} s, max {max(runs[(label, 'cold')]):5.2f} s; "
              f"{sizes[label] // 1024} KiB)")
    return worst


async def explain(url: str) -> None:
    """Every statement of one dashboard per period run once under ``EXPLAIN (ANALYZE, BUFFERS)``
    (a ``CREATE TABLE ... AS`` explains its query only); prints the statement times and the
    plan of the slowest."""
    engine = create_engine(url)
    plans: list[tuple[float, str, str]] = []

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        query = statement.strip()
        if conn.info.get("explaining") or executemany:
            return
        if query.upper().startswith(("CREATE TEMPORARY TABLE", "CREATE UNLOGGED TABLE")):
            query = query.split(" AS", 1)[1]
        elif not query.upper().startswith(("SELECT", "WITH")):
            return
        conn.info["explaining"] = True  # per connection: the figures run on several at once
        try:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, parameters)
            lines = [row[0] for row in cursor.fetchall()]
        finally:
            conn.info["explaining"] = False
        took = next((float(line.split(":")[1].split()[0]) for line in lines
                     if line.startswith("Execution Time")), 0.0)
        plans.append((took, " ".join(query.split())[:160], "\n".join(lines)))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        service = make_service(engine)
        for label, start, end in PERIODS:
            plans.clear()
            await service.compute("demo", start, end)
            print(f"\n== {label}: statements (EXPLAIN ANALYZE execution time)")
            for took, query, _plan in plans:
                print(f"  {took:8.1f} ms  {query}")
            took, query, plan = max(plans)
            print(f"-- slowest ({took:.1f} ms):\n{plan}")
    finally:
        await engine.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per period (medians reported)")
    parser.add_argument("--explain", action="store_true",
                        help="also print EXPLAIN ANALYZE of the slowest statement per period")
    parser.add_argument("--database", help="reuse this already loaded database (not dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the new database (print its name)")
    args = parser.parse_args()
    admin = await asyncpg.connect(dsn(SERVER))
    name = args.database or f"acordo_bench_dashboard_{secrets.token_hex(4)}"
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    try:
        if not args.database:
            await admin.execute(f'CREATE DATABASE "{name}"')
            print(f"database {name}: migrating and loading {DEBTORS:,} debtors")
            await migrate(url)
            await load(url)
        else:
            print(f"database {name}: migrating (already loaded)")
            await migrate(url)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        worst = await time_periods(url, args.repeat)
        if args.explain:
            await explain(url)
    finally:
        if not (args.database or args.keep):
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        elif args.keep:
            print(f"kept database {name} (reuse: --database {name})")
        await admin.close()
    verdict = "OK" if worst < LIMIT_SECONDS else "TOO SLOW"
    print(f"30-day page, slowest median {worst:.2f} s (limit {LIMIT_SECONDS:.0f} s): {verdict}")
    return 0 if worst < LIMIT_SECONDS else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
