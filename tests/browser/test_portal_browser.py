"""The debtor's portal page on a phone (390×844) in a real headless Chromium (Debian's package,
driven by Playwright), against the app served over HTTP: open the link, accept a plan, see the
PIX code and its QR picture in at most 3 taps. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from bot.devtools.stack import Child, start_app
from tests.conftest import ROOT
from tests.support.requirements import browser_env, chromium_path, need

playwright_api = pytest.importorskip("playwright.sync_api")

# Starts the app in a process of its own and drives Chromium through the page.
pytestmark = pytest.mark.timeout(240)
SHOTS = ROOT / "docs" / "screenshots"
ADMIN = {"Authorization": "Bearer portal-browser-admin"}
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PORTFOLIO = {"creditor": "demo", "debtors": [{
    "external_id": "padaria", "name": "Padaria Sol Ltda", "tax_id": "11.444.777/0001-61",
    "locale": "pt-BR", "contacts": [{"name": "Marta", "channel": "web",
                                      "address": "financeiro@padariasol.com.br"}],
    "debts": [{"external_id": "NF-1021", "amount": "8400.00", "currency": "BRL",
               "due_date": "2026-10-01", "description": "Farinha e insumos"}]}]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The debtor's portal link on the app served over HTTP (the real clock)."""
    need("chromium")
    folder = tmp_path_factory.mktemp("portal")
    env = {"ACORDO_DATABASE_URL": f"sqlite:///{folder / 'acordo.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_TEMPLATES_DIR": str(ROOT / "templates"),
           "ACORDO_ADMIN_TOKEN": "portal-browser-admin", "ACORDO_LINK_SECRET": "portal-browser-secret-0123",
           "ACORDO_RASA_URL": "http://127.0.0.1:9", "ACORDO_OUTBOX_IN_APP": "false"}
    port = free_port()
    app: Child = start_app(ROOT, port=port, env=env, log=folder / "app.log")
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers=ADMIN, timeout=30) as http:
            assert http.post("/api/v1/portfolio", json=PORTFOLIO).status_code == 200
            issued = http.post("/api/v1/portal/links", json={"debtor_external_id": "padaria"})
            assert issued.status_code == 201, issued.text
        yield f"{base}/p/{issued.json()['token']}"
    finally:
        app.stop()


def test_link_to_the_pix_of_an_accepted_plan_in_three_taps_on_a_phone(link: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=ARGS, headless=True,
                                    env=browser_env())
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(link)
            assert page.locator("#creditor").inner_text().startswith("Distribuidora Exemplo Ltda")
            assert page.locator("#invoices").inner_text().count("NF-1021") == 1
            assert page.locator("#log").count() == 1 and page.locator("#text").count() == 1
            page.screenshot(path=str(SHOTS / "portal.png"), full_page=True)
            plan = page.locator("details.offer").first
            plan.locator("summary").click()  # tap 1: open the 2-installment plan
            assert plan.locator("tbody tr").count() == 2
            plan.locator("button.accept").click()  # tap 2: accept it
            code = page.locator("#pix-code")
            code.wait_for()
            assert code.inner_text().startswith("000201")
            assert page.locator("#agreement tbody tr").count() == 2
            page.wait_for_function("document.getElementById('pix-qr').naturalWidth > 0")
            page.locator("#copy-pix").click()  # tap 3: copy the code
            page.wait_for_function("document.getElementById('copy-pix').textContent !== 'Copiar código PIX'")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, width
            box = code.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 390
            page.screenshot(path=str(SHOTS / "portal-agreement.png"), full_page=True)
            page.reload()  # the page stays the agreement's: nothing to accept twice
            assert page.locator("#offers").count() == 0 and page.locator("#pix-code").count() == 1
        finally:
            browser.close()
