"""GET /chat: a small page on the web channel for demos and manual testing."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.api.deps import ContainerDep
from bot.demo import demo_portfolio

router = APIRouter(tags=["pages"], include_in_schema=False)


def demo_contacts(today: date) -> list[dict[str, str]]:
    """Web contacts of the demo portfolio, offered as suggestions on the page."""
    return [
        {"address": c.address, "label": f"{c.name} — {d.name} ({c.locale or d.locale})"}
        for d in demo_portfolio(today).debtors
        for c in d.contacts
        if c.channel == "web"
    ]


@router.get("/chat", response_class=HTMLResponse)
async def chat(container: ContainerDep) -> HTMLResponse:
    pages = Environment(loader=PackageLoader("bot", "web"), autoescape=select_autoescape())
    contacts = demo_contacts(container.clock.now().date()) if container.settings.demo else []
    return HTMLResponse(pages.get_template("chat.html").render(contacts=contacts))
