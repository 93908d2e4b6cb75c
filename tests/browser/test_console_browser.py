"""The reply-first agent console in a real headless Chromium (Debian's package, Playwright), on
a laptop (1366×768) and a phone (390×844): take and reply in two actions with Ctrl+Enter, the
"N new" banner of the live queue, closing with a confirmation (dialog, and the checkbox without
JavaScript), cards and a fixed reply box on the phone, axe-core on both pages in both languages.
Screenshots (staff-console-*.png) go to docs/screenshots/."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.storage import create_engine, migrate, session_factory
from bot.storage import models as db
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.portfolio import PortfolioRepository
from tests.conftest import NOW, ROOT
from tests.support.axe import serious_violations
from tests.support.requirements import browser_env, chromium_path, need
from tests.support.staff_browser import served_app

playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.timeout(300)
T = TypeVar("T")
CHROMIUM = chromium_path()
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "console-browser-password"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LAPTOP, PHONE = {"width": 1366, "height": 768}, {"width": 390, "height": 844}
# Each test has its own waiting debtors, so they run in any order.
COMPANIES = {"padaria": "Padaria Sol Ltda", "ferro": "Ferragens Norte S.A.",
             "tinta": "Tintas Cor ME", "quieta": "Quieta Comércio Ltda", "eixo": "Eixo Peças Ltda",
             "fone": "Fone Serviços Ltda", "sai": "Saída Rápida Ltda"}


@dataclass(frozen=True)
class Served:
    url: str
    db_url: str
    ids: dict[str, str]  # company key -> public id of its waiting conversation


async def hand_off(url: str, key: str, name: str, minutes: int) -> str:
    """A debtor whose web chat waits for a person (asked ``minutes`` after NOW - 1 h)."""
    engine = create_engine(url, clock=FixedClock(NOW))
    try:
        async with session_factory(engine)() as session:
            repo, conversations = PortfolioRepository(session), ConversationRepository(session)
            await repo.upsert_creditor("demo", "Distribuidora Exemplo Ltda", "11.222.333/0001-81")
            debtor = await repo.upsert_debtor("demo", key, name, "04.252.011/0001-10",
                                              "America/Sao_Paulo", "pt-BR")
            contact = await repo.upsert_contact(debtor, f"Ana {key}", "web", f"{key}@example.com")
            await repo.upsert_debt(debtor, f"NF-{key}", "2500.00", "BRL",
                                   NOW.date() - timedelta(days=30))
            conversation = await conversations.get_or_create(contact)
            await conversations.add_message(conversation, direction="in", author="debtor",
                                            text="quero falar com uma pessoa", channel="web",
                                            status="received",
                                            at=NOW - timedelta(hours=1) + timedelta(minutes=minutes))
            await conversations.set_state(conversation, "human", "request_human")
            await session.commit()
            return conversation.public_id
    finally:
        await engine.dispose()


async def seed(url: str) -> dict[str, str]:
    await migrate(url)
    return {key: await hand_off(url, key, name, n) for n, (key, name) in enumerate(COMPANIES.items())}


async def back_to_bot(url: str, public_id: str) -> None:
    """The conversation leaves the queue (as a hand back by another agent would do it)."""
    engine = create_engine(url, clock=FixedClock(NOW))
    try:
        async with session_factory(engine)() as session:
            conversations = ConversationRepository(session)
            conversation = await conversations.by_public_id(public_id)
            assert conversation is not None
            await conversations.set_state(conversation, "bot")
            await conversations.add_message(conversation, direction="out", author="bot", text="…",
                                            channel="web", status="queued", at=NOW)
            await session.commit()
    finally:
        await engine.dispose()


async def state_of(url: str, public_id: str) -> str:
    engine = create_engine(url, clock=FixedClock(NOW))
    try:
        async with session_factory(engine)() as session:
            return str(await session.scalar(select(db.Conversation.state).where(
                db.Conversation.public_id == public_id)))
    finally:
        await engine.dispose()


def in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on a thread of its own (Playwright's loop owns this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


class TrackerStub(BaseHTTPRequestHandler):
    """Rasa's tracker-events endpoint, as far as closing needs it (the conversation resumes)."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    need("chromium")
    need("axe")
    folder = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{folder / 'acordo.db'}"
    ids = asyncio.run(seed(url))
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), TrackerStub)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    with served_app(folder, url, {"alice": "agent", "bruno": "agent"}, PASSWORD,
                    rasa_url=f"http://127.0.0.1:{rasa.server_address[1]}") as base:
        yield Served(base, url, ids)
        rasa.shutdown()


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[object]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True,
                                     env=browser_env())
        try:
            yield chromium
        finally:
            chromium.close()


def signed_in(browser: object, served: Served, *, locale: str = "pt-BR", name: str = "alice",
              viewport: dict[str, int] = LAPTOP, javascript: bool = True) -> object:
    context = browser.new_context(viewport=viewport, java_script_enabled=javascript)  # type: ignore[attr-defined]
    if locale == "en":
        context.add_cookies([{"name": "acordo_staff_lang", "value": "en", "url": served.url}])
    page = context.new_page()
    page.goto(f"{served.url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/agent")
    return page


def test_take_and_reply_in_two_actions_with_ctrl_enter(served: Served, browser: object) -> None:
    expect = playwright_api.expect
    page = signed_in(browser, served)
    row = page.locator(f"tr[data-conversation='{served.ids['padaria']}']")
    row.locator("td").nth(3).click()  # 1: the queue row (anywhere on it)
    page.wait_for_url(f"**/agent/c/{served.ids['padaria']}")
    expect(page.locator("#reply")).to_be_focused()  # type at once
    box = page.locator("#reply-card").bounding_box()
    assert box is not None and box["y"] + box["height"] <= LAPTOP["height"], box  # no scrolling
    assert page.evaluate("window.scrollY") == 0
    page.screenshot(path=str(SHOTS / "staff-console-reply-first-1366.png"))
    page.keyboard.type("Olá, aqui é a Alice da equipe.")
    page.keyboard.press("Control+Enter")  # 2: Ctrl+Enter takes the chat and sends
    expect(page.locator(".flash.ok")).to_have_text("Enviada.")
    expect(page.locator("#history")).to_contain_text("Olá, aqui é a Alice da equipe.")
    expect(page.locator("#status")).to_contain_text("alice")
    expect(page.locator("#reply")).to_be_focused()  # ready for the next one
    box = page.locator("#reply-card").bounding_box()  # and on the screen, with the flash above
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], box
    page.keyboard.type("Posso propor um parcelamento.")
    page.keyboard.press("Meta+Enter")  # Cmd+Enter on a Mac
    expect(page.locator("#history")).to_contain_text("Posso propor um parcelamento.")
    page.context.close()


def test_a_second_agent_replying_is_told_who_took_it(served: Served, browser: object) -> None:
    expect = playwright_api.expect
    alice = signed_in(browser, served)
    bruno = signed_in(browser, served, name="bruno")
    for page in (alice, bruno):
        page.goto(f"{served.url}/agent/c/{served.ids['tinta']}")
        page.fill("#reply", "Oi!")
    alice.keyboard.press("Control+Enter")
    expect(alice.locator(".flash.ok")).to_have_text("Enviada.")
    bruno.keyboard.press("Control+Enter")
    expect(bruno.locator(".flash.error")).to_have_text("já assumida por alice")
    alice.context.close()
    bruno.context.close()


def test_new_items_wait_behind_a_banner(served: Served, browser: object) -> None:
    expect = playwright_api.expect
    page = signed_in(browser, served)
    before = page.locator("#queue tr[data-conversation]").evaluate_all(
        "rows => rows.map(r => r.dataset.conversation)")
    assert served.ids["quieta"] in before
    page.locator(f"tr[data-conversation='{served.ids['quieta']}']").hover()  # the pointer rests
    public_id = in_thread(hand_off(served.db_url, "nova", "Nova Distribuição Ltda", -30))
    started = time.monotonic()
    banner = page.locator("#new-items")
    expect(banner).to_be_visible(timeout=5_000)
    seconds = time.monotonic() - started
    expect(banner).to_have_text("1 nova: mostrar")
    after = page.locator("#queue tr[data-conversation]").evaluate_all(
        "rows => rows.map(r => r.dataset.conversation)")
    assert after == before  # nothing moved under the pointer
    # A listed conversation that leaves the queue stays where it was, struck through.
    in_thread(back_to_bot(served.db_url, served.ids["sai"]))
    gone = page.locator(f"tr[data-conversation='{served.ids['sai']}']")
    expect(gone).to_have_class("gone", timeout=5_000)
    assert page.locator("#queue tr[data-conversation]").evaluate_all(
        "rows => rows.map(r => r.dataset.conversation)") == before
    page.screenshot(path=str(SHOTS / "staff-console-new-items-1366.png"))
    banner.click()
    expect(page.locator(f"tr[data-conversation='{public_id}']")).to_be_visible()
    expect(gone).to_have_count(0)
    expect(banner).to_be_hidden()
    print(f"banner shown {seconds:.2f} s after the handoff was stored")
    assert seconds < 2.0, seconds  # 0.4 s polling plus the page's refetch


def test_close_asks_for_confirmation(served: Served, browser: object) -> None:
    expect = playwright_api.expect
    page = signed_in(browser, served)
    page.goto(f"{served.url}/agent/c/{served.ids['ferro']}")
    page.click("#take")
    page.click("#close")
    dialog = page.locator("#close-dialog")
    expect(dialog).to_be_visible()
    page.screenshot(path=str(SHOTS / "staff-console-close-dialog-1366.png"))
    page.click("#close-no")  # cancelling keeps it
    expect(dialog).to_be_hidden()
    assert in_thread(state_of(served.db_url, served.ids["ferro"])) == "human"
    page.click("#close")
    page.click("#close-yes")
    expect(page.locator(".flash.ok")).to_have_text("Encerrada.")
    expect(page.locator("#history")).to_contain_text("Encerramos este atendimento")
    assert in_thread(state_of(served.db_url, served.ids["ferro"])) == "bot"
    page.context.close()


def test_close_without_javascript_needs_the_checkbox(served: Served, browser: object) -> None:
    expect = playwright_api.expect
    page = signed_in(browser, served, javascript=False)
    page.goto(f"{served.url}/agent/c/{served.ids['eixo']}")
    page.click("#take")
    confirm = page.locator("#close-confirm")
    expect(confirm).to_be_visible()
    assert confirm.get_attribute("required") is not None
    page.click("#close")  # the browser holds the form back: nothing happens
    assert in_thread(state_of(served.db_url, served.ids["eixo"])) == "human"
    confirm.check()
    page.click("#close")
    expect(page.locator(".flash.ok")).to_have_text("Encerrada.")
    assert in_thread(state_of(served.db_url, served.ids["eixo"])) == "bot"
    page.context.close()


def test_phone_cards_fixed_reply_and_debts_first(served: Served, browser: object) -> None:
    page = signed_in(browser, served, viewport=PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    row = page.locator("#queue tr[data-conversation]").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"  # a card, not a table row
    page.screenshot(path=str(SHOTS / "staff-console-queue-390.png"), full_page=True)
    page.goto(f"{served.url}/agent/c/{served.ids['fone']}")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    reply = page.locator("#reply-card").bounding_box()
    assert reply is not None and abs(reply["y"] + reply["height"] - PHONE["height"]) < 1, reply
    page.mouse.wheel(0, 2000)
    page.wait_for_timeout(200)
    again = page.locator("#reply-card").bounding_box()
    assert again is not None and abs(again["y"] + again["height"] - PHONE["height"]) < 1, again
    debts = page.locator("#facts").bounding_box()
    history = page.locator("#history").bounding_box()
    page.evaluate("window.scrollTo(0, 0)")
    assert debts is not None and history is not None and debts["y"] < history["y"]
    page.screenshot(path=str(SHOTS / "staff-console-conversation-390.png"))
    page.context.close()


@pytest.mark.parametrize("locale", ["pt-BR", "en"])
def test_queue_and_conversation_pass_axe(served: Served, browser: object, locale: str) -> None:
    page = signed_in(browser, served, locale=locale)
    problems: list[str] = []
    conversation = f"{served.url}/agent/c/{served.ids['quieta']}"
    for viewport in (LAPTOP, PHONE):
        page.set_viewport_size(viewport)
        for path in (f"{served.url}/agent", f"{served.url}/agent?q=quieta&mine=1", conversation):
            page.goto(path)
            problems += [f"{locale} {path} {viewport['width']}: {v}" for v in serious_violations(page)]
    # The conversation once taken: every action's form (offer, close with its dialog).
    page.set_viewport_size(LAPTOP)
    page.goto(conversation)
    if page.locator("#take").count():
        page.click("#take")
    problems += [f"{locale} taken: {v}" for v in serious_violations(page)]
    page.click("#close")  # the dialog open
    problems += [f"{locale} close dialog: {v}" for v in serious_violations(page)]
    page.screenshot(path=str(SHOTS / f"staff-console-taken-{locale}-1366.png"))
    page.context.close()
    assert problems == [], "\n".join(problems)

