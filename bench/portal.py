"""The debtor's portal page on the SQLite demo: what the first page transfers and how fast
the app renders it.

Starts the app (``acordo serve``) on a fresh SQLite file with the demo portfolio, issues a
portal link for each demo debtor (``POST /api/v1/portal/links``), then requests
``GET /p/{token}`` ``--requests`` times in turn over the links (after a warm-up) and prints:
the page's size (bytes transferred, gzip not assumed), whether it references anything
outside the app (fonts, scripts, styles, images from another host), and the server's
latency p50/p95. Targets: at most 100 KB and p95 <= 150 ms. Run: ``python -m bench.portal``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bot.demo import demo_portfolio
from bot.devtools.stack import start_app
from tests.e2e.conftest import free_port, today

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": "Bearer bench"}
# src/href to another host (or protocol-relative): anything the browser would fetch elsewhere.
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


async def main(requests: int) -> int:
    work = Path(tempfile.mkdtemp(prefix="acordo-bench-portal-"))
    port = free_port()
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{work / 'portal.db'}", "ACORDO_ADMIN_TOKEN": "bench",
           "ACORDO_LINK_SECRET": "bench-portal-link-secret", "ACORDO_RASA_URL": "http://127.0.0.1:9"}
    app = start_app(ROOT, port=port, env=env, log=work / "app.log")
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            portfolio = demo_portfolio(today()).model_dump(mode="json")
            (await client.post("/api/v1/portfolio", json=portfolio, headers=ADMIN)).raise_for_status()
            tokens = []
            for debtor in portfolio["debtors"]:
                response = await client.post("/api/v1/portal/links", headers=ADMIN, json={
                    "debtor_external_id": debtor["external_id"], "creditor": portfolio["creditor"]})
                if response.status_code == 201:
                    tokens.append(response.json()["token"])
            if not tokens:
                print("no portal link could be issued (no web contact in the demo?)")
                return 1
            for token in tokens:  # warm-up: templates, policy, first charge per debtor
                (await client.get(f"/p/{token}")).raise_for_status()
            sizes, latencies, external = [], [], 0
            for n in range(requests):
                started = time.perf_counter()
                page = await client.get(f"/p/{tokens[n % len(tokens)]}")
                latencies.append(time.perf_counter() - started)
                page.raise_for_status()
                sizes.append(len(page.content))
                external += len(EXTERNAL.findall(page.text))
        latencies.sort()
        p50 = latencies[len(latencies) // 2] * 1000
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] * 1000
        print(f"Portal page: {requests} requests over {len(tokens)} debtors' links (SQLite demo)")
        print(f"size: largest {max(sizes) / 1024:.1f} KB, smallest {min(sizes) / 1024:.1f} KB "
              "(target <= 100 KB, nothing else to fetch but the QR picture after accepting)")
        print(f"references to other hosts: {external} (target 0)")
        print(f"latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 <= 150 ms)")
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"load average at the end: {load:.2f} on {os.cpu_count()} CPUs")
        return 0 if max(sizes) <= 100 * 1024 and p95 <= 150 and external == 0 else 1
    finally:
        app.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    sys.exit(asyncio.run(main(parser.parse_args().requests)))
