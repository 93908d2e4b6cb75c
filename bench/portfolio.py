"""Portfolio at scale: import 1,000,000 invoices (200,000 debtors) and plan one day's régua.

Steps, each in its own process (wall time and that process's peak RSS from ``wait4``):

1. generate the CSV (``bench/portfolio.py --generate``) into a temporary folder;
2. ``acordo import`` it into a fresh PostgreSQL database (target ≤ 120 s);
3. ``acordo import`` it into a fresh SQLite file (target ≤ 180 s);
4. compute one day's due contacts on PostgreSQL: the set-wise decision (preview) and the
   recorded schedule (contacts + reasons written) (target ≤ 30 s);

peak RSS of every step < 1 GiB. The temporary database is dropped at the end.
Run: ``python -m bench.portfolio`` (``--invoices N`` for a smaller run).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER = os.environ.get("ACORDO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
DAY = date(2026, 12, 7)  # a Monday
NOW = datetime(2026, 12, 7, 11, 30, tzinfo=UTC)  # 08:30 in São Paulo
TARGETS = {"import postgresql": 120.0, "import sqlite": 180.0, "due contacts postgresql (schedule)": 30.0}
GIB = 1 << 30


def cnpj(number: int) -> str:
    """A valid CNPJ from a 12-digit base (check digits computed)."""
    base = [int(d) for d in f"{number % 10**8:08d}0001"]
    for weights in ((5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2), (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)):
        total = sum(d * w for d, w in zip(base, weights, strict=False))
        rest = total % 11
        base.append(0 if rest < 2 else 11 - rest)
    digits = "".join(map(str, base))
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"


def generate(path: Path, invoices: int, debtors: int) -> None:
    rng = random.Random(2026)
    zones = ["America/Sao_Paulo"] * 8 + ["America/Manaus", "America/Recife", "America/Noronha"]
    per = invoices // debtors
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "debtor_external_id",
                "debtor_name",
                "debtor_tax_id",
                "debtor_timezone",
                "debtor_locale",
                "contact_name",
                "contact_channel",
                "contact_address",
                "contact_locale",
                "debt_external_id",
                "amount",
                "currency",
                "due_date",
                "description",
            ]
        )
        for d in range(debtors):
            zone = zones[d % len(zones)]
            tax_id = cnpj(10_000_000 + d)
            for i in range(per):
                channel, address = ("whatsapp", f"+5511{d:09d}") if i % 2 == 0 else ("sms", f"+5521{d:09d}")
                if i >= 2:
                    channel = address = ""
                due = DAY - timedelta(days=rng.randint(-10, 120))
                writer.writerow(
                    [
                        f"deb-{d}",
                        f"Empresa {d} Ltda",
                        tax_id,
                        zone,
                        "pt-BR",
                        "Financeiro" if channel else "",
                        channel,
                        address,
                        "",
                        f"NF-{d}-{i}",
                        f"{rng.randint(100, 90000)}.{rng.randint(0, 99):02d}",
                        "BRL",
                        due.isoformat(),
                        f"NF {d}-{i}",
                    ]
                )


def policy_dir(folder: Path) -> Path:
    policies = folder / "policies"
    policies.mkdir(exist_ok=True)
    (policies / "bench.yaml").write_text(
        (ROOT / "policies" / "demo.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return policies


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss: int
    rows: int | None = None
    cpu: float = 0.0  # user + system seconds of the step's process (what the load cannot inflate)

    def line(self) -> str:
        rate = f"{self.rows / self.seconds:>10,.0f} rows/s" if self.rows else " " * 17
        target = TARGETS.get(self.name)
        verdict = "" if target is None else ("  ok" if self.seconds <= target else f"  OVER {target:.0f} s")
        memory = "  ok" if self.peak_rss < GIB else "  OVER 1 GiB"
        return (
            f"{self.name:<38} {self.seconds:7.1f} s (cpu {self.cpu:6.1f} s) {rate}  "
            f"peak RSS {self.peak_rss / 2**20:7.0f} MiB{memory}{verdict}"
        )


def measured(name: str, args: list[str], env: dict[str, str], rows: int | None = None) -> Step:
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    out = process.stdout.read().decode() if process.stdout else ""
    errors = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{name} failed:\n{out}\n{errors}")
    if out.strip():
        print("   ", out.strip().splitlines()[-2] if len(out.strip().splitlines()) > 1 else out.strip())
    return Step(name, seconds, usage.ru_maxrss * 1024, rows, usage.ru_utime + usage.ru_stime)


async def _create_database() -> str:
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"acordo_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(make_url(SERVER).set(drivername="postgresql").render_as_string(False))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return make_url(SERVER).set(database=name).render_as_string(hide_password=False)


async def _drop_database(url: str) -> None:
    import asyncpg
    from sqlalchemy.engine import make_url

    admin = await asyncpg.connect(make_url(SERVER).set(drivername="postgresql").render_as_string(False))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await admin.close()


async def _due_contacts(url: str, policies: str, mode: str) -> None:
    """Child process of step 4: one day's decision for the whole portfolio."""
    from bot.cadence.service import CadenceService
    from bot.clock import FixedClock
    from bot.policies import load_policies
    from bot.rendering.renderer import TemplateRenderer
    from bot.storage import create_engine, session_factory
    from bot.storage.uow import unit_of_work

    engine = create_engine(url, clock=FixedClock(NOW))
    try:
        service = CadenceService(
            unit_of_work(session_factory(engine)),
            load_policies(Path(policies)),
            TemplateRenderer(ROOT / "templates"),
            FixedClock(NOW),
            {"whatsapp", "sms"},
        )
        if mode == "preview":
            result = await service.summary(DAY)
            print(f"{sum(result.planned.values()):,} to send, {sum(result.skipped.values()):,} not sent")
        else:
            [run] = await service.schedule(DAY)
            print(f"{run.planned:,} contacts planned, {run.skipped:,} decisions not to contact recorded")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--debtors", type=int, default=200_000)
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--due", nargs=3, metavar=("URL", "POLICIES", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.invoices, args.debtors)
        return
    if args.due:
        asyncio.run(_due_contacts(*args.due))
        return
    with tempfile.TemporaryDirectory(prefix="acordo-bench-") as tmp:
        folder = Path(tmp)
        csv_file = folder / "portfolio.csv"
        policies = policy_dir(folder)
        base_env = {
            **os.environ,
            "ACORDO_POLICIES_DIR": str(policies),
            "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
            "PYTHONPATH": str(ROOT),
            "COLUMNS": "200",
        }
        steps = [
            measured(
                "generate csv",
                [
                    sys.executable,
                    "-m",
                    "bench.portfolio",
                    "--generate",
                    str(csv_file),
                    "--invoices",
                    str(args.invoices),
                    "--debtors",
                    str(args.debtors),
                ],
                base_env,
                args.invoices,
            )
        ]
        print(
            f"{args.invoices:,} invoices, {args.debtors:,} debtors: {csv_file.stat().st_size / 2**20:.0f} MiB"
        )
        url = asyncio.run(_create_database())
        try:
            importer = [sys.executable, "-m", "bot", "import", str(csv_file), "--creditor", "bench"]
            steps.append(
                measured(
                    "import postgresql", importer, {**base_env, "ACORDO_DATABASE_URL": url}, args.invoices
                )
            )
            steps.append(
                measured(
                    "import sqlite",
                    importer,
                    {**base_env, "ACORDO_DATABASE_URL": f"sqlite:///{folder / 'bench.db'}"},
                    args.invoices,
                )
            )
            due = [sys.executable, "-m", "bench.portfolio", "--due", url, str(policies)]
            steps.append(
                measured(
                    "due contacts postgresql (preview counts)", [*due, "preview"], base_env, args.invoices
                )
            )
            steps.append(
                measured("due contacts postgresql (schedule)", [*due, "schedule"], base_env, args.invoices)
            )
        finally:
            asyncio.run(_drop_database(url))
    print()
    for step in steps:
        print(step.line())


if __name__ == "__main__":
    main()
