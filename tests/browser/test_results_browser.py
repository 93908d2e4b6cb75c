"""The results dashboard and the audit view in a real headless Chromium (Debian's package,
driven by Playwright), against the app served over HTTP on the known portfolio of
tests/support/known_results.py. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from bot.clock import FixedClock
from bot.storage import create_engine, migrate, session_factory
from tests.conftest import NOW, ROOT
from tests.support.known_results import build_portfolio
from tests.support.requirements import browser_env, chromium_path, need
from tests.support.staff_browser import served_app

playwright_api = pytest.importorskip("playwright.sync_api")

# Starts the app in a process of its own and drives Chromium through several pages.
pytestmark = pytest.mark.timeout(240)
CHROMIUM = chromium_path()
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "results-password-123"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def seed(url: str) -> None:
    await migrate(url)
    engine = create_engine(url, clock=FixedClock(NOW))
    try:
        async with session_factory(engine)() as session:
            await build_portfolio(session)
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need("chromium")
    folder = tmp_path_factory.mktemp("results")
    url = f"sqlite:///{folder / 'acordo.db'}"
    asyncio.run(seed(url))
    with served_app(folder, url, {"carla": "admin"}, PASSWORD) as base:
        yield base


def test_results_page_reads_at_a_glance_in_chromium(served: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, env=browser_env())
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{served}/admin/results?start=2026-11-01&end=2026-11-30")
            assert "/login" in page.url  # admins only
            page.fill("input[name=name]", "carla")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/admin/results?**")
            kpis = page.locator(".kpi").all_inner_texts()
            # The staff pages' default language: pt-BR, Brazilian formats.
            assert any("Taxa de recuperação" in k and "36,6%" in k for k in kpis), kpis
            assert any("Recuperado" in k and "R$ 1.500,00" in k for k in kpis), kpis
            assert page.locator("svg[role=img]").count() == 5
            step_chart = page.locator("svg[role=img]").nth(4).inner_html()
            assert "última etapa da régua antes do pagamento" in step_chart
            assert "gentle nº 2 (dia +1)" in step_chart
            assert page.locator("#table-step tbody tr").count() == 2
            assert page.locator("#table-segment tbody tr").count() == 2
            page.screenshot(path=str(SHOTS / "results.png"), full_page=True)
            with page.expect_download() as download:
                page.click("#table-channel a.button")
            assert download.value.suggested_filename.startswith("acordo-demo-channel-")
            page.goto(f"{served}/admin/debtors/b/audit")
            kinds = [tag.get_attribute("data-kind") for tag in page.locator("#timeline [data-kind]").all()]
            assert kinds[:2] == ["promise", "message_out"] and "handoff" in kinds and "payment" in kinds
            handoff = page.locator("#timeline [data-kind=handoff]").first
            assert handoff.inner_text() == "Transferida para atendente"
            page.screenshot(path=str(SHOTS / "audit.png"), full_page=True)
            # Write debt B2 off from the page: the reason and "confirmo" are required.
            b2 = page.locator("tr", has_text="B2").last  # the debts table follows the timeline
            b2.locator("input[name=reason]").fill("empresa encerrou as atividades")
            b2.locator("input[name=confirmo]").check()
            b2.locator("button[type=submit]").click()
            page.wait_for_url("**/audit?**msg=**")
            assert "B2" in page.content() and "baixada como perda" in page.content()
            assert page.locator("#timeline [data-kind=debt_written_off]").count() == 1
            assert "Baixada como perda" in page.locator("tr", has_text="B2").last.inner_text()
        finally:
            browser.close()
