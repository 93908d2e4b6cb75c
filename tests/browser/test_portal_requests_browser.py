"""The portal page's requests in a real headless Chromium (Debian's, driven by Playwright) at
390×844 and 1366×768: a counter-proposal refused with the chat's reasons then accepted, a
receipt uploaded, the expired link's page, and a keyboard-only path from the offers to the PIX
code. axe-core finds no serious or critical violation on any of these pages. Screenshots go
to docs/screenshots/."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.portal_browser import (
    ARGS,
    LAPTOP,
    PHONE,
    SHOTS,
    PortalSite,
    debtor,
    portal_site,
)
from tests.support.requirements import browser_env, chromium_path, need

playwright_api = pytest.importorskip("playwright.sync_api")

# Starts the app in a process of its own and drives Chromium through several pages.
pytestmark = pytest.mark.timeout(420)
VIEWPORTS = {"phone": PHONE, "laptop": LAPTOP}
NAMES = [f"{kind}{size}" for kind in ("proposal", "receipt", "keys", "requests")
         for size in ("phone", "laptop")]


def tiny_png() -> bytes:
    """A real 1×1 PNG (what a phone's camera would send, only smaller)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalSite]:
    need("chromium")
    need("axe")
    with portal_site(tmp_path_factory.mktemp("portal-requests"), [debtor(n) for n in NAMES]) as served:
        yield served


@pytest.fixture(scope="module")
def browser(site: PortalSite) -> Iterator[Any]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=ARGS, headless=True,
                                     env=browser_env())
        try:
            yield launched
        finally:
            launched.close()


def accessible(page: Any) -> None:
    from tests.support.axe import serious_violations
    found = serious_violations(page)
    assert found == [], "\n".join(found)


def fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_a_refused_proposal_shows_the_reasons_then_its_counter_offer_is_accepted(
        site: PortalSite, browser: Any, size: str) -> None:
    page = browser.new_page(viewport=VIEWPORTS[size])
    page.goto(site.link(f"proposal{size}"))
    accessible(page)  # the offers
    page.fill("#installments", "24")
    page.fill("#first_due", "")
    page.locator("#proposal button[type=submit]").last.click()
    answer = page.locator("#proposal .said")
    answer.wait_for()
    assert "Do jeito que foi pedido não consigo aceitar" in answer.inner_text()
    assert "o máximo é de" in answer.inner_text()
    assert page.input_value("#installments") == "24"  # the values stay
    fits(page, VIEWPORTS[size]["width"])
    accessible(page)  # the answer
    page.screenshot(path=str(SHOTS / f"portal-proposal-refused-{size}.png"), full_page=True)
    card = page.locator("[id^=proposed-]")
    card.locator("summary").click()
    card.locator("button.accept").click()
    page.locator("#pix-code").wait_for()
    assert page.locator("#terms-pdf").count() == 1
    accessible(page)  # the agreement
    page.screenshot(path=str(SHOTS / f"portal-proposal-accepted-{size}.png"), full_page=True)
    page.close()


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_a_receipt_uploaded_from_the_page(site: PortalSite, browser: Any, size: str) -> None:
    page = browser.new_page(viewport=VIEWPORTS[size])
    page.goto(site.link(f"receipt{size}"))
    page.locator("#paid summary").click()
    page.set_input_files("#receipt", files=[{"name": "comprovante.png", "mimeType": "image/png",
                                             "buffer": tiny_png()}])
    page.fill("#note", "Paguei ontem pelo PIX")
    page.locator("#paid button[type=submit]").click()
    notice = page.locator("#actions .answer")
    notice.wait_for()
    assert "Recebemos o seu aviso de pagamento" in notice.inner_text()
    fits(page, VIEWPORTS[size]["width"])
    accessible(page)
    page.screenshot(path=str(SHOTS / f"portal-receipt-{size}.png"), full_page=True)
    # A file that is not a receipt comes back with the error next to the field.
    page.locator("#paid summary").click() if not page.locator("#paid[open]").count() else None
    page.set_input_files("#receipt", files=[{"name": "x.png", "mimeType": "image/png",
                                             "buffer": b"MZ not a picture"}])
    page.locator("#paid button[type=submit]").click()
    page.locator("#receipt-error").wait_for()
    accessible(page)
    page.close()


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_the_expired_link_page(site: PortalSite, browser: Any, size: str) -> None:
    page = browser.new_page(viewport=VIEWPORTS[size])
    response = page.goto(site.expired_link(f"requests{size}"))
    assert response is not None and response.status == 410
    assert "Link expirado" in page.inner_text("body") and "R$" not in page.inner_text("body")
    accessible(page)
    page.screenshot(path=str(SHOTS / f"portal-expired-{size}.png"), full_page=True)
    page.close()


def tab_to(page: Any, selector: str, limit: int = 80) -> None:
    """Press Tab until the element ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus with Tab")


@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_keyboard_only_from_a_plan_to_the_pix_code(site: PortalSite, browser: Any, size: str) -> None:
    page = browser.new_page(viewport=VIEWPORTS[size])
    page.goto(site.link(f"keys{size}"))
    tab_to(page, "#offers details.offer summary")
    page.keyboard.press("Enter")  # open the plan
    assert page.locator("#offers details.offer[open]").count() == 1
    tab_to(page, "#offers details.offer[open] button.accept")
    page.keyboard.press("Enter")  # accept it
    page.locator("#pix-code").wait_for()
    tab_to(page, "#copy-pix")
    page.keyboard.press("Enter")  # copy the PIX code
    page.wait_for_function("document.getElementById('copy-pix').textContent !== 'Copiar código PIX'")
    assert page.inner_text("#pix-code").startswith("000201")
    page.screenshot(path=str(SHOTS / f"portal-keyboard-{size}.png"), full_page=False)
    page.close()


def test_dispute_person_and_opt_out_pages_are_accessible(site: PortalSite, browser: Any) -> None:
    page = browser.new_page(viewport=PHONE)
    page.goto(site.link("requestsphone"))
    page.locator("#dispute summary").click()
    page.locator("#dispute button[type=submit]").click()  # no reason: the error
    page.locator("#reason-error").wait_for()
    accessible(page)
    page.fill("#reason", "Esta nota foi cancelada")
    page.locator("#dispute button[type=submit]").click()
    page.locator("#actions .answer").wait_for()
    assert "Contestação registrada" in page.inner_text("#actions")
    accessible(page)
    page.goto(site.link("requestslaptop"))
    page.locator("#human summary").click()
    page.locator("#human button[type=submit]").click()
    page.locator("#actions .notice").wait_for()
    accessible(page)
    page.locator("#opt-out summary").click()
    page.locator("#opt-out button[type=submit]").click()
    page.locator("#confirm-error").wait_for()
    accessible(page)
    page.check("#confirm")
    page.locator("#opt-out button[type=submit]").click()
    page.locator("#actions .answer").wait_for()
    assert "não receberá mais mensagens" in page.inner_text("#actions")
    accessible(page)
    page.close()
