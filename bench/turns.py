"""Turn throughput and latency: plain Rasa REST versus full Acordo turns.

(a) ``POST /webhooks/rest/webhook`` on the Rasa server directly (NLU, policies and the
    custom-action round trip, for senders Acordo does not know: the cheapest action);
(b) ``POST /channels/web/messages`` on the app: store inbound, Rasa, actions with
    storage and the negotiation core, rendering, store outbound.

Both on the same trained model and the same scripted conversations, sequentially
and with 8 concurrent conversations. Besides the wall-clock figures it prints the CPU time
each process spent per turn (from ``/proc``), which a busy machine disturbs far less than
latency. Targets: (b)/(a) sequential throughput >= 0.8 and (b) sequential p95 <= 80 ms.
Run: ``make bench`` (or ``python -m bench.turns``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import httpx

from bot.devtools.stack import start_app, start_rasa
from tests.e2e.conftest import CNPJS, free_port, today

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ("bom dia", "quanto eu devo?", "tem desconto?", "nao", "da pra parcelar?",
          "consigo 4x de 3 mil", "quem e vc?", "obrigado, tchau")
CONVERSATIONS = 24


def cpu_ms(pid: int) -> float:
    """User + system CPU time of a process so far, in ms (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    label: str
    latencies: list[float]
    seconds: float
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU ms per turn

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def line(self) -> str:
        cpu = "  ".join(f"{name} {ms:5.1f}" for name, ms in self.cpu.items())
        return (f"{self.label:<34} {len(self.latencies):>5} turns  {self.rate:7.1f} turns/s  "
                f"p50 {self.pct(0.50):6.1f} ms  p95 {self.pct(0.95):6.1f} ms  CPU ms/turn: {cpu}")


async def run(label: str, senders: list[str], concurrency: int,
              turn: Callable[[httpx.AsyncClient, str, str], Awaitable[None]],
              processes: dict[str, int] | None = None) -> Result:
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for sender in senders:
        queue.put_nowait(sender)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            sender = queue.get_nowait()
            for text in SCRIPT:
                started = time.perf_counter()
                await turn(client, sender, text)
                latencies.append(time.perf_counter() - started)

    processes = processes or {}
    async with httpx.AsyncClient(timeout=30) as client:
        cpu_before = {name: cpu_ms(pid) for name, pid in processes.items()}
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu = {name: (cpu_ms(pid) - cpu_before[name]) / max(1, len(latencies))
               for name, pid in processes.items()}
    return Result(label, latencies, elapsed, cpu)


def portfolio(prefix: str, count: int) -> dict[str, object]:
    return {"creditor": "demo", "debtors": [{
        "external_id": f"{prefix}-{n}", "name": f"Bench {n} Ltda", "tax_id": CNPJS[n % 4],
        "contacts": [{"name": "Bench", "channel": "web", "address": f"{prefix}-{n}@bench"}],
        "debts": [{"external_id": f"{prefix}-{n}-a", "amount": "12000.00", "currency": "BRL",
                   "due_date": (today() - timedelta(days=20)).isoformat()}],
    } for n in range(count)]}


async def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="acordo-bench-"))
    app_port, rasa_port = free_port(), free_port()
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{work / 'bench.db'}", "ACORDO_ADMIN_TOKEN": "bench",
           "ACORDO_RASA_TOKEN": "bench", "ACORDO_ACTION_TOKEN": "bench",
           "ACORDO_RASA_URL": f"http://127.0.0.1:{rasa_port}"}
    app = start_app(ROOT, port=app_port, env=env, log=work / "app.log")
    rasa = None
    try:
        rasa = start_rasa(ROOT, port=rasa_port, token="bench", action_token="bench",
                          action_url=f"http://127.0.0.1:{app_port}/actions/webhook",
                          log=work / "rasa.log")
        base, rasa_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{rasa_port}"

        async def rasa_turn(client: httpx.AsyncClient, sender: str, text: str) -> None:
            response = await client.post(f"{rasa_base}/webhooks/rest/webhook",
                                         json={"sender": sender, "message": text})
            response.raise_for_status()

        async def acordo_turn(client: httpx.AsyncClient, sender: str, text: str) -> None:
            response = await client.post(f"{base}/channels/web/messages",
                                         json={"sender": sender, "text": text},
                                         headers={"Authorization": "Bearer bench"})
            response.raise_for_status()

        results: dict[str, Result] = {}
        processes = {"app": app.process.pid, "rasa": rasa.process.pid}
        # Warm up both paths (TensorFlow graph, dateparser data, connection pools).
        await run("warm-up", ["warm-rasa"], 1, rasa_turn)
        for round_name, concurrency in (("sequential", 1), ("8 concurrent", 8)):
            prefix = f"b{concurrency}"
            response = httpx.post(f"{base}/api/v1/portfolio", json=portfolio(prefix, CONVERSATIONS),
                                  headers={"Authorization": "Bearer bench"}, timeout=60)
            response.raise_for_status()
            await run("warm-up", [f"{prefix}-warm@none"], 1, acordo_turn)
            results[f"a {round_name}"] = await run(
                f"(a) Rasa REST, {round_name}", [f"{prefix}-r{n}" for n in range(CONVERSATIONS)],
                concurrency, rasa_turn, processes)
            results[f"b {round_name}"] = await run(
                f"(b) Acordo web turn, {round_name}",
                [f"{prefix}-{n}@bench" for n in range(CONVERSATIONS)], concurrency, acordo_turn,
                processes)
        print(f"Turn benchmark: {CONVERSATIONS} conversations x {len(SCRIPT)} turns per run")
        for result in results.values():
            print(result.line())
        for round_name in ("sequential", "8 concurrent"):
            a, b = results[f"a {round_name}"], results[f"b {round_name}"]
            print(f"ratio (b)/(a) throughput, {round_name}: {b.rate / a.rate:.2f}"
                  + (" (target >= 0.8)" if round_name == "sequential" else ""))
        seq = results["b sequential"]
        print(f"Acordo sequential p95: {seq.pct(0.95):.1f} ms (target <= 80 ms); "
              f"median {statistics.median(seq.latencies) * 1000:.1f} ms")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"load average at the end: {load:.2f} on {os.cpu_count()} CPUs "
              "(latency figures are only comparable on an otherwise idle machine)")
        return 0
    finally:
        if rasa is not None:
            rasa.stop()
        app.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
