"""The PIX code in the web chat (bot/web/chat.html) on a phone-sized screen, in a real headless
Chromium: the code wraps inside its bubble and its button copies it.

The page is the one /chat serves; the web channel's answers are stood in by Playwright's
request routing (the replies the app gives after an installment agreement), so no app runs.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from bot.api.chat_page import pages
from bot.payments import brcode
from bot.payments.qr import qr_png
from tests.support.requirements import browser_env, chromium_path, need

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.timeout(120)
ORIGIN = "http://localhost:8765"  # localhost: a secure context, where the clipboard API works
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
CODE = brcode.build("11222333000181", "Distribuidora Exemplo Ltda", "SAO PAULO", Decimal("3177.70"),
                    "AC2F5A568CDC5B3A382044")
REPLIES = [
    {"text": "Acordo registrado! ✅ 3 parcelas, total de R$ 9.533,11: a 1ª de R$ 3.177,70 em "
             "26/12/2026 e a última em 24/02/2027.\nObrigado pela parceria!", "buttons": []},
    {"text": f"Como pagar a 1ª parcela (de 3):\nR$ 3.177,70 até 26/12/2026\nPIX copia e cola:\n{CODE}\n"
             "Copie o código e cole no app do seu banco, na opção PIX copia e cola.",
     "buttons": [], "image": "/pay/AC2F5A568CDC5B3A382044.png"},
]


def routes(page: Any) -> None:
    html = pages().get_template("chat.html").render(
        contacts=[{"address": "rita@acme.com.br", "label": "Rita"}], token=None)

    def answer(route: Any) -> None:
        request = route.request
        if request.url.startswith(f"{ORIGIN}/chat"):
            route.fulfill(status=200, content_type="text/html", body=html)
        elif "/pay/" in request.url:
            route.fulfill(status=200, content_type="image/png", body=qr_png(CODE))
        elif request.method == "POST":
            route.fulfill(status=200, content_type="application/json", body=json.dumps({"replies": REPLIES}))
        else:  # the page polls for pushed messages
            route.fulfill(status=200, content_type="application/json",
                          body=json.dumps({"messages": [], "last_id": None}))

    page.route(f"{ORIGIN}/**", answer)


def test_the_pix_code_wraps_in_its_bubble_and_copies_on_a_phone() -> None:
    need("chromium")
    assert CODE.startswith("000201") and " " not in CODE.split("5925")[0]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=ARGS, headless=True,
                                    env=browser_env())
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ORIGIN)
            page = context.new_page()
            routes(page)
            page.goto(f"{ORIGIN}/chat")
            page.fill("#text", "sim")
            page.click("form#send button[type=submit]")
            code = page.locator(".msg.out .pix code")
            code.wait_for()
            assert code.count() == 1 and code.inner_text() == CODE
            bubble = page.locator(".msg.out", has=page.locator(".pix code"))
            box, inner = bubble.bounding_box(), code.bounding_box()
            assert box is not None and inner is not None
            assert box["x"] + box["width"] <= 390
            assert inner["x"] >= box["x"] and inner["x"] + inner["width"] <= box["x"] + box["width"]
            assert inner["height"] > 20  # wrapped over several lines, not cut off
            widths = page.evaluate("[document.documentElement.scrollWidth, "
                                   "document.getElementById('log').scrollWidth, "
                                   "document.getElementById('log').clientWidth]")
            assert widths[0] <= 390 and widths[1] <= widths[2], widths
            assert page.locator(".msg.out img").count() == 1
            page.locator(".msg.out .pix button.copy").click()
            page.wait_for_function(
                "document.querySelector('.pix button.copy').textContent.startsWith('Copiado')")
            assert page.evaluate("navigator.clipboard.readText()") == CODE
            # The lines around the code stay as text in the same bubble.
            assert "PIX copia e cola:" in bubble.inner_text() and "Copie o código" in bubble.inner_text()
        finally:
            browser.close()
