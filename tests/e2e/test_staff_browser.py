"""The staff web UIs in a real headless Chromium (Debian's package, driven by Playwright).

A debtor on the web chat asks for a person; an agent, already on the queue page, sees the
conversation arrive live, takes it, replies (the debtor's chat receives it), offers an
installment plan beyond the bot's limits, hands back, and the bot continues (the debtor
accepts the agent's offer with the bot). An admin edits, previews and saves a template,
and the next bot message uses it; an agent is refused /admin; a hostile template is
refused with the word named. Screenshots of each page go to docs/screenshots/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ROOT, Stack
from tests.support.requirements import browser_env, chromium_path, need

# The first test also starts the real Rasa server (its model loads in about a minute).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]
playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = chromium_path()
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "e2e-password-123"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def add_user(stack: Stack, name: str, role: str) -> None:
    env = {**os.environ, "ACORDO_DATABASE_URL": f"sqlite:///{stack.logs / 'acordo.db'}",
           "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_NEW_PASSWORD": PASSWORD}
    result = subprocess.run([sys.executable, "-m", "bot", "users", "add", name, "--role", role],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[object]:
    need("chromium")
    add_user(stack, "alice", "agent")
    add_user(stack, "carla", "admin")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, env=browser_env())
        try:
            yield chromium
        finally:
            chromium.close()


def in_english(context: object, stack: Stack) -> None:
    """The cookie of the header's language switch: these flows assert the English wording
    (tests/browser/test_staff_pages_browser.py drives the pages in pt-BR, the default)."""
    context.add_cookies([{"name": "acordo_staff_lang", "value": "en",  # type: ignore[attr-defined]
                          "url": stack.app_url}])


def sign_in(page: object, stack: Stack, name: str) -> None:
    page.goto(f"{stack.app_url}/login")  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]


def test_handoff_agent_console_and_hand_back(stack: Stack, browser: object) -> None:
    expect = playwright_api.expect
    me = stack.new_debtor(debts=(("9000.00", 10),))
    agent_ctx = browser.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    debtor_ctx = browser.new_context(viewport={"width": 390, "height": 760})  # type: ignore[attr-defined]
    in_english(agent_ctx, stack)
    agent, debtor = agent_ctx.new_page(), debtor_ctx.new_page()
    agent.goto(f"{stack.app_url}/agent")
    expect(agent).to_have_url(f"{stack.app_url}/login?next=/agent")
    agent.screenshot(path=str(SHOTS / "login.png"))
    sign_in(agent, stack, "alice")
    expect(agent.locator("h1")).to_have_text("Conversations waiting for a person")

    debtor.goto(stack.portal_url(me))  # the debtor's own link: no address to type or guess
    debtor.fill("#text", "quero falar com um atendente")
    debtor.click("form#send button")
    expect(debtor.locator("#log")).to_contain_text("equipe", timeout=15_000)
    arrived = time.monotonic()
    # Other tests hand conversations off too: pick this debtor's row by its own name.
    name = f"Empresa Teste {me.split('-')[0].removeprefix('test')} Ltda"
    row = agent.locator("#queue a", has_text=name)
    banner = agent.locator("#new-items:not([hidden])")  # listed rows stay put: new ones wait
    expect(row.first.or_(banner).first).to_be_visible(timeout=5_000)  # live, without reload
    if banner.is_visible():
        banner.click()
    expect(row.first).to_be_visible()
    live_seconds = time.monotonic() - arrived
    assert live_seconds < 3.0, f"the queue took {live_seconds:.1f}s to show the chat"
    agent.screenshot(path=str(SHOTS / "agent-queue.png"), full_page=True)

    row.last.click()
    agent.click("#take")
    expect(agent.locator(".flash.ok")).to_have_text("Taken.")
    expect(agent.locator("#reply")).to_be_focused()  # reply first
    debtor.fill("#text", "oi? alguem ai?")
    debtor.click("form#send button")
    expect(agent.locator("#history")).to_contain_text("oi? alguem ai?", timeout=5_000)
    agent.fill("#reply", "Olá! Aqui é a Alice, da equipe. Posso propor um parcelamento maior.")
    agent.click("#reply-form button")
    expect(debtor.locator("#log")).to_contain_text("Aqui é a Alice", timeout=5_000)
    agent.select_option("#offer-kind", "installments")
    agent.fill("#offer-count", "8")
    agent.click("#offer-form button[type=submit]")
    expect(agent.locator(".flash.ok")).to_have_text("Offer sent.")
    expect(debtor.locator("#log")).to_contain_text("8 parcelas", timeout=5_000)
    agent.screenshot(path=str(SHOTS / "agent-conversation.png"), full_page=True)
    agent.set_viewport_size({"width": 390, "height": 844})
    agent.screenshot(path=str(SHOTS / "agent-conversation-phone.png"), full_page=True)
    agent.set_viewport_size({"width": 1280, "height": 860})

    agent.fill("form[action$='/handback'] input[name=note]", "ofereci 8x (acima do bot)")
    agent.click("#handback")
    expect(agent.locator(".flash.ok")).to_have_text("Handed back to the bot.")
    expect(debtor.locator("#log")).to_contain_text("continua válida", timeout=5_000)
    debtor.locator("#log .msg.out").last.locator("button", has_text="Aceitar").click()
    expect(debtor.locator("#log")).to_contain_text("Acordo registrado", timeout=15_000)
    debtor.screenshot(path=str(SHOTS / "debtor-chat.png"), full_page=True)
    view = stack.debtor(me)
    [agreement] = view["agreements"]  # type: ignore[misc]
    assert agreement["created_by"] == "agent" and len(agreement["installments"]) == 8
    assert view["conversations"][0]["state"] == "bot"  # type: ignore[index]

    agent.goto(f"{stack.app_url}/admin")
    expect(agent.locator("h1")).to_have_text("403")
    agent.screenshot(path=str(SHOTS / "agent-refused-admin.png"))
    agent_ctx.close()
    debtor_ctx.close()


def test_admin_edits_previews_saves_and_the_bot_uses_it(stack: Stack, browser: object) -> None:
    expect = playwright_api.expect
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    in_english(ctx, stack)
    admin = ctx.new_page()
    sign_in(admin, stack, "carla")
    admin.goto(f"{stack.app_url}/admin")
    admin.screenshot(path=str(SHOTS / "admin-templates.png"))
    admin.goto(f"{stack.app_url}/admin/templates/pt-BR/greet")
    source = ("Olá{% if contact_name %}, {{ contact_name }}{% endif %}! Aqui é o assistente da "
              "{{ creditor_name }} (mensagem editada).\n{% if has_debt %}Posso ajudar com os valores "
              "em aberto da {{ debtor_name }}.{% else %}Nada em aberto.{% endif %}")
    admin.fill("#source", source)
    expect(admin.locator("#preview")).to_contain_text("Olá, Ana! Aqui é o assistente da "
                                                      "Distribuidora Exemplo Ltda (mensagem editada).")
    admin.screenshot(path=str(SHOTS / "admin-edit-preview.png"), full_page=True)
    admin.click("#save")
    expect(admin.locator(".flash.ok")).to_contain_text("Saved as version")

    me = stack.new_debtor()
    replies = stack.say(me, "bom dia")
    assert "(mensagem editada)" in str(replies[0]["text"])

    admin.fill("#source", "Último aviso antes de protesto, {{ contact_name }}. {{ creditor_name }}")
    admin.click("#save")
    expect(admin.locator("#problems")).to_contain_text("último aviso antes de")
    admin.screenshot(path=str(SHOTS / "admin-hostile-refused.png"), full_page=True)
    # Put the shipped wording back (as a new version) for the other tests sharing the stack.
    admin.fill("#source", (ROOT / "templates" / "pt-BR" / "greet.j2").read_text(encoding="utf-8"))
    admin.click("#save")
    expect(admin.locator(".flash.ok")).to_contain_text("Saved as version 2")
    admin.goto(f"{stack.app_url}/admin/policies")
    expect(admin.locator("pre").first).to_contain_text("demo: ok")
    admin.screenshot(path=str(SHOTS / "admin-policies.png"), full_page=True)
    ctx.close()
