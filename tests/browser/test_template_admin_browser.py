"""The template admin in a real headless Chromium (Debian's package, driven by Playwright), on a
laptop (1366×768) and a phone (390×844): save two versions, read the diff, roll back through the
confirmation page, restore the original text; the list, edit, diff, confirmation and policies
pages pass axe-core (no serious or critical violation) and are never wider than the viewport.
Screenshots (staff-templates-<page>-<locale>-<width>.png) go to docs/screenshots/."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.storage import migrate
from tests.conftest import ROOT
from tests.support.axe import serious_violations
from tests.support.requirements import browser_env, chromium_path, need
from tests.support.staff_browser import served_app

playwright_api = pytest.importorskip("playwright.sync_api")

# Starts the app in a process of its own; two walks through a dozen pages.
pytestmark = pytest.mark.timeout(420)
CHROMIUM = chromium_path()
SHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "template-admin-password-123"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# One template per size, so each walk starts from the shipped text.
WALKS = ((1366, 768, "goodbye"), (390, 844, "clarify"))


@dataclass(frozen=True)
class Served:
    url: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    need("chromium")
    need("axe")
    folder = tmp_path_factory.mktemp("template-admin")
    url = f"sqlite:///{folder / 'acordo.db'}"
    asyncio.run(migrate(url))
    with served_app(folder, url, {"carla": "admin"}, PASSWORD) as base:
        yield Served(base)


class Walk:
    """One admin's pages at one size: every page checked for width and axe, some photographed."""

    def __init__(self, page: object, width: int) -> None:
        self.page = page
        self.width = width
        self.problems: list[str] = []

    def check(self, shot: str | None = None) -> None:
        page = self.page
        url = page.url  # type: ignore[attr-defined]
        wide = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        if wide > self.width:
            self.problems.append(f"{url} at {self.width}px is {wide}px wide")
        self.problems += [f"{url} at {self.width}px: {v}" for v in serious_violations(page)]
        if shot:
            # The whole list is in staff-templates-<locale>-<width>.png (test_staff_pages_browser).
            path = SHOTS / f"staff-templates-{shot}-pt-BR-{self.width}.png"
            page.screenshot(path=str(path), full_page=shot != "list")  # type: ignore[attr-defined]


def sign_in(page: object, served: Served) -> None:
    page.goto(f"{served.url}/login")  # type: ignore[attr-defined]
    page.fill("input[name=name]", "carla")  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("main button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/agent")  # type: ignore[attr-defined]


def save(page: object, served: Served, name: str, source: str) -> None:
    page.goto(f"{served.url}/admin/templates/pt-BR/{name}")  # type: ignore[attr-defined]
    page.fill("#source", source)  # type: ignore[attr-defined]
    page.click("#save")  # type: ignore[attr-defined]
    page.wait_for_url("**msg=**")  # type: ignore[attr-defined]


@pytest.mark.parametrize(("width", "height", "name"), WALKS)
def test_diff_rollback_with_confirmation_and_restore_in_chromium(
        served: Served, width: int, height: int, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True, env=browser_env())
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            walk = Walk(page, width)
            sign_in(page, served)
            page.goto(f"{served.url}/admin")
            assert page.locator("tr[data-name]").count() > 60
            page.select_option("select[name=situation]", "cadence")
            page.click("form[role=search] button[type=submit]")
            page.wait_for_url("**situation=cadence**")
            assert page.locator("tr[data-name]").count() == 3
            page.goto(f"{served.url}/admin")
            walk.check("list")
            save(page, served, name, "Primeira versão, {{ contact_name }}.\nLinha que fica.")
            save(page, served, name, "Segunda versão, {{ contact_name }}.\nLinha que fica.")
            walk.check("edit")
            # The diff of version 2: a line removed, a line added, marked by sign and word.
            page.click("tr[data-version='2'] >> text=O que mudou")
            page.wait_for_url("**/diff?**")
            removed = page.locator("tr[data-kind=removed]")
            added = page.locator("tr[data-kind=added]")
            assert removed.count() == 1 and added.count() == 1
            assert "Primeira versão" in removed.inner_text() and "−" in removed.inner_text()
            assert "Segunda versão" in added.inner_text() and "+" in added.inner_text()
            walk.check("diff")
            # Roll back to version 1: the confirmation page shows what will change first.
            page.goto(f"{served.url}/admin/templates/pt-BR/{name}")
            page.click("tr[data-version='1'] a.rollback")
            page.wait_for_url("**/rollback?version_id=**")
            assert "Sim, voltar para a versão 1" in page.inner_text("#confirm")
            assert "Segunda versão" in page.locator("tr[data-kind=removed]").inner_text()
            walk.check("rollback")
            page.click("#confirm")
            page.wait_for_url("**msg=**")
            assert "Restaurado como versão 3." in page.inner_text("main")
            assert page.input_value("#source").startswith("Primeira versão")
            # Restore the shipped text, after its own confirmation.
            page.click("#restore")
            page.wait_for_url("**/restore**")
            assert page.locator("tr[data-kind=added]").count() >= 1
            walk.check("restore")
            page.click("#confirm")
            page.wait_for_url("**msg=**")
            assert "O texto original voltou a ser usado, gravado como versão 4." in page.inner_text("main")
            assert "Primeira versão" not in page.input_value("#source")
            assert "texto original" in page.inner_text("tr[data-version='4']")
            page.goto(f"{served.url}/admin/policies")
            assert not page.locator("details.card").evaluate("d => d.open")
            walk.check("policies")
        finally:
            browser.close()
    assert walk.problems == [], "\n".join(walk.problems)
