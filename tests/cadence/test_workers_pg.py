"""Workers on the real PostgreSQL: two at once send each due contact once; killed mid-batch
(SIGKILL, several times) and restarted, every due contact is delivered exactly once, as the
Twilio emulator sees it (deliveries by idempotency key)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cadence.service import CadenceService
from bot.clock import FixedClock
from bot.devtools.emulators.observed import Faults
from bot.devtools.emulators.twilio import TwilioEmulator
from bot.policies import PolicyBook
from bot.rendering.renderer import TemplateRenderer
from bot.storage import create_engine, session_factory
from bot.storage.uow import unit_of_work
from tests.cadence.conftest import CNPJ, ROOT, postgres_portfolio

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # Monday 09:00 in São Paulo
DEBTORS = 60


@pytest.fixture
async def database(policies: PolicyBook) -> AsyncIterator[str]:
    debtors = [{"external_id": f"d{i}", "name": f"Empresa {i}", "tax_id": CNPJ,
                "contacts": [{"name": "Financeiro", "channel": "sms", "address": f"+55119{i:08d}"}],
                "debts": [{"external_id": f"NF-{i}-{j}", "amount": "100.00",
                           "due_date": date(2026, 12, 6 - j).isoformat()} for j in range(2)]}
               for i in range(DEBTORS)]
    async with postgres_portfolio(policies, FixedClock(NOW), debtors) as (url, _sessions, _portfolio):
        yield url


async def expected_keys(url: str, policies: PolicyBook) -> set[str]:
    """What the régua must send on the day: one contact per debtor (cap per day 1)."""
    engine = create_engine(url, clock=FixedClock(NOW))
    try:
        cadence = CadenceService(
            unit_of_work(session_factory(engine)),
            policies,
            TemplateRenderer(ROOT / "templates"),
            FixedClock(NOW),
            {"sms", "whatsapp"},
        )
        preview = await cadence.preview(NOW.date())
    finally:
        await engine.dispose()
    assert len(preview.planned) == DEBTORS
    assert {s.reason for s in preview.skipped} == {"cap_per_day"}
    return {f"{p.debtor}:{p.debt}" for p in preview.planned}


def worker_env(url: str, twilio: TwilioEmulator, policies_dir: Path, name: str) -> dict[str, str]:
    return {
        **os.environ,
        "ACORDO_DATABASE_URL": url,
        "ACORDO_POLICIES_DIR": str(policies_dir),
        "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
        "ACORDO_TWILIO_ACCOUNT_SID": twilio.account_sid,
        "ACORDO_TWILIO_AUTH_TOKEN": twilio.auth_token,
        "ACORDO_TWILIO_API_URL": twilio.base_url,
        "ACORDO_TWILIO_SMS_FROM": "+5511900000000",
        "ACORDO_TWILIO_SMS_MPS": "500",
        "ACORDO_TWILIO_CHAT_RATE_PER_SECOND": "100",
        "ACORDO_CHANNEL_SEND_TIMEOUT_SECONDS": "3",
        "ACORDO_CADENCE_TICK_SECONDS": "0.2",
        "ACORDO_CADENCE_SCHEDULE_MINUTES": "0.01",
        "ACORDO_TEST_NOW": NOW.isoformat(),
        "WORKER_NAME": name,
        "PYTHONPATH": str(ROOT),
    }


async def start_worker(
    url: str, twilio: TwilioEmulator, policies_dir: Path, name: str, log: Path
) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.cadence.worker_main",
        cwd=ROOT,
        env=worker_env(url, twilio, policies_dir, name),
        stdout=asyncio.subprocess.PIPE,
        stderr=log.open("ab"),
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.startswith(b"ready"), f"worker did not start; see {log}"
    return process


def delivered(twilio: TwilioEmulator) -> Counter[str]:
    return Counter(d.key for d in twilio.deliveries if d.key)


async def wait_for(twilio: TwilioEmulator, count: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(delivered(twilio)) < count and loop.time() < deadline:
        await asyncio.sleep(0.1)


@pytest.fixture
def policies_dir(policies: PolicyBook, tmp_path: Path) -> Path:
    from tests.cadence.conftest import POLICY

    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "acme.yaml").write_text(POLICY, encoding="utf-8")
    return folder


async def test_two_workers_at_once_send_every_contact_once(
    database: str, policies: PolicyBook, policies_dir: Path, tmp_path: Path
) -> None:
    expected = await expected_keys(database, policies)
    twilio = TwilioEmulator()
    await twilio.start()
    workers = []
    try:
        workers = list(
            await asyncio.gather(
                *(
                    start_worker(database, twilio, policies_dir, f"w{i}", tmp_path / f"w{i}.log")
                    for i in range(2)
                )
            )
        )
        await wait_for(twilio, len(expected), 40)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            await asyncio.wait_for(worker.wait(), 20)
        await twilio.stop()
    counts = delivered(twilio)
    assert len(counts) == len(expected), f"{len(counts)} of {len(expected)} delivered"
    assert set(counts.values()) == {1}
    # SKIP LOCKED: no row was even attempted twice.
    assert not [r for r in twilio.requests if r.outcome == "duplicate"]


async def test_killing_workers_mid_batch_loses_nothing_and_sends_nothing_twice(
    database: str, policies: PolicyBook, policies_dir: Path, tmp_path: Path
) -> None:
    expected = await expected_keys(database, policies)
    # Slow answers (the delivery is made, the answer comes late): kills land between the
    # provider accepting a message and the worker recording it.
    twilio = TwilioEmulator(faults=Faults(rate_timeout=0.5, timeout_delay=0.4), seed=5)
    await twilio.start()
    rng = random.Random(7)
    kills = 0
    try:
        for round_ in range(4):
            worker = await start_worker(
                database, twilio, policies_dir, f"crash{round_}", tmp_path / "crash.log"
            )
            await asyncio.sleep(rng.uniform(0.3, 1.2))
            worker.send_signal(signal.SIGKILL)
            await worker.wait()
            kills += 1
        assert len(delivered(twilio)) < len(expected), "the kills came too late to test anything"
        final = await start_worker(database, twilio, policies_dir, "final", tmp_path / "crash.log")
        try:
            await wait_for(twilio, len(expected), 40)
        finally:
            final.send_signal(signal.SIGTERM)
            await asyncio.wait_for(final.wait(), 20)
    finally:
        await twilio.stop()
    counts = delivered(twilio)
    assert kills == 4
    assert len(counts) == len(expected), f"{len(counts)} of {len(expected)} delivered"
    assert set(counts.values()) == {1}, [k for k, n in counts.items() if n > 1]
