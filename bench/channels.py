"""Telegram broadcast under rate limits, through the real aiogram client and the emulator.

3,000 messages to 600 distinct chats (5 each, enqueued round-robin), limits 30 msg/s global
and 1 msg/s per chat, on a fresh PostgreSQL database. The Bot API emulator runs in its own
process and reports what it observed: the sustained rate, violations of either limit
(any 31 sends within one second, or two sends to one chat less than a second apart), lost
and duplicated messages. Scenarios:

1. one dispatcher, limits in process, no faults;
2. one dispatcher, 10% 429s (retry_after 1-3 s) and 2% timeouts (the emulator delivers,
   then answers after the client gave up);
3. two dispatcher processes sharing the limits through Redis, with the same faults.

Run: ``python -m bench.channels`` (``--messages``/``--chats`` for a quicker run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.ratelimit import ChannelRates, InProcessRateLimiter, RateLimiter, RedisRateLimiter
from bot.channels.telegram import TelegramChannel, build_bot
from bot.clock import SystemClock
from bot.services.outbox.dispatcher import OutboxDispatcher
from bot.storage import create_engine, migrate, session_factory
from bot.storage.channel_models import OutboxMessage, OutboxStatus
from bot.storage.channel_repositories import OutboxRepository
from bot.storage.uow import unit_of_work

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("ACORDO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("ACORDO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
TOKEN = "42:TEST"
GLOBAL, PER_CHAT = 30.0, 1.0
SEND_TIMEOUT = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def fresh_database() -> str:
    name = f"acordo_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(_dsn(POSTGRES))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _dsn(POSTGRES, name)
    await migrate(url)
    return url


async def drop_database(url: str) -> None:
    admin = await asyncpg.connect(_dsn(POSTGRES))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    finally:
        await admin.close()


async def enqueue(url: str, messages: int, chats: int) -> None:
    engine = create_engine(url, clock=SystemClock())
    sessions = session_factory(engine)
    async with sessions() as session:
        repo = OutboxRepository(session)
        for k in range(messages // chats):
            for chat in range(chats):
                await repo.enqueue(channel="telegram", address=str(100_000 + chat),
                                   text=f"Lembrete {k + 1} para o chat {chat}",
                                   idempotency_key=f"bench:{chat}:{k}", initiated_by="bot")
        await session.commit()
    await engine.dispose()


async def unfinished(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]))) or 0)


async def dispatch(url: str, api_url: str, redis_url: str | None) -> None:
    """One dispatcher process: send until the outbox has nothing left."""
    engine = create_engine(url, clock=SystemClock(), pool_size=10)
    sessions = session_factory(engine)
    bot = build_bot(TOKEN, api_url, timeout=SEND_TIMEOUT)
    limiter: RateLimiter
    redis = None
    if redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(redis_url)
        limiter = RedisRateLimiter(redis, prefix=f"acordo:bench:{os.environ['BENCH_RUN']}:")
    else:
        limiter = InProcessRateLimiter()
    overs: list[float] = []

    async def sleep(seconds: float) -> None:  # asyncio.sleep, measuring how late it wakes
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        overs.append(time.monotonic() - t0 - seconds)

    dispatcher = OutboxDispatcher(
        unit_of_work(sessions), {"telegram": TelegramChannel(bot, SEND_TIMEOUT)}, limiter,
        {"telegram": ChannelRates(GLOBAL, PER_CHAT)}, clock=SystemClock(), batch=120, concurrency=128,
        max_attempts=20, backoff_base=0.5, backoff_cap=5.0, poll_interval=0.1, sleep=sleep)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    while await unfinished(sessions):
        await asyncio.sleep(1.0)
    stop.set()
    await task
    # How late the sends woke up (CPU starvation) and how many of them booked a new slot.
    overs.sort()
    quantiles = [round(overs[int(len(overs) * q)] * 1000, 1) for q in (0.5, 0.9, 0.99)] if overs else []
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(f"  dispatcher {os.getpid()}: {dispatcher.stats}; woke late p50/p90/p99 {quantiles} ms; "
          f"cpu {cpu.ru_utime + cpu.ru_stime:.1f} s", file=sys.stderr)
    await bot.session.close()
    if redis is not None:
        await redis.aclose()
    await engine.dispose()


async def scenario(name: str, messages: int, chats: int, faults: list[str], workers: int,
                   redis_url: str | None) -> dict[str, Any]:
    url = await fresh_database()
    port = free_port()
    emulator = subprocess.Popen([sys.executable, "-m", "bot.devtools.emulators", "telegram",
                                 "--port", str(port), "--timeout-delay", str(SEND_TIMEOUT + 2), *faults],
                                cwd=ROOT)
    api = f"http://127.0.0.1:{port}"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(100):
                try:
                    await http.post(f"{api}/bot{TOKEN}/getMe")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            await enqueue(url, messages, chats)
            started = time.monotonic()
            env = {**os.environ, "BENCH_RUN": uuid.uuid4().hex}
            args = [sys.executable, "-m", "bench.channels", "--dispatch", url, api]
            if redis_url:
                args.append(redis_url)
            procs = [subprocess.Popen(args, cwd=ROOT, env=env) for _ in range(workers)]
            for proc in procs:
                await asyncio.to_thread(proc.wait)
            elapsed = time.monotonic() - started
            report = (await http.get(f"{api}/_emulator/report",
                                     params={"global": GLOBAL, "chat": PER_CHAT}, timeout=60)).json()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        emulator.terminate()
        emulator.wait()
        await drop_database(url)
    expected = {f"bench:{chat}:{k}" for k in range(messages // chats) for chat in range(chats)}
    delivered = set(report.pop("delivered_keys"))
    return {"scenario": name, "messages": len(expected), "seconds": round(elapsed, 1),
            "delivery_rate": round(report["delivery_rate"], 2),
            "request_rate": round(report["request_rate"], 2),
            "sustained_rate": round(report["sustained_request_rate"], 2),
            "ratio_of_limit": round(report["sustained_request_rate"] / GLOBAL, 3),
            "violations": report["violations"], "lost": len(expected - delivered),
            "duplicated": report["duplicated"] + len(delivered - expected),
            "outcomes": report["outcomes"]}


async def main(messages: int, chats: int) -> int:
    faults = ["--rate-429", "0.10", "--rate-timeout", "0.02"]
    results = [
        await scenario("1 dispatcher, no faults", messages, chats, [], 1, None),
        await scenario("1 dispatcher, 10% 429 + 2% timeouts", messages, chats, faults, 1, None),
        await scenario("2 dispatchers + Redis, 10% 429 + 2% timeouts", messages, chats, faults, 2, REDIS),
    ]
    ok = True
    print(f"Telegram broadcast: {messages} messages to {chats} chats, limits {GLOBAL:g}/s global, "
          f"{PER_CHAT:g}/s per chat")
    for r in results:
        passed = (r["ratio_of_limit"] >= 0.95 and r["violations"] == {"global": 0, "per_chat": 0}
                  and r["lost"] == 0 and r["duplicated"] == 0)
        ok = ok and passed
        print(f"- {r['scenario']}: {r['seconds']} s; sustained {r['sustained_rate']} requests/s "
              f"({r['ratio_of_limit']:.3f} of the limit; whole run {r['request_rate']}/s, "
              f"deliveries {r['delivery_rate']}/s); "
              f"violations global {r['violations']['global']}, per chat {r['violations']['per_chat']}; "
              f"lost {r['lost']}, duplicated {r['duplicated']}; outcomes {r['outcomes']}"
              f"  [{'ok' if passed else 'MISSED'}]")
    print(json.dumps(results))
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--chats", type=int, default=600)
    parser.add_argument("--dispatch", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.dispatch:
        url, api, *rest = options.dispatch
        asyncio.run(dispatch(url, api, rest[0] if rest else None))
        sys.exit(0)
    sys.exit(asyncio.run(main(options.messages, options.chats)))
