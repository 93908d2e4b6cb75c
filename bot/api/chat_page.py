"""GET /chat: the demo chat page (demo mode only), with a picker of the demo creditor's web
contacts. The same chat (``bot/web/chat_panel.html``) is inside the debtor's portal page,
bound to its link's token (bot/api/portal_page.py, bot/api/web_identity.py).
"""

from __future__ import annotations

from datetime import date
from functools import cache

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from bot.api.deps import ContainerDep
from bot.demo import demo_portfolio

router = APIRouter(tags=["pages"], include_in_schema=False)
PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
# Why a link does not open, pt-BR first (title, text), then English.
LINK_ERRORS: dict[str, tuple[int, tuple[str, str], tuple[str, str]]] = {
    "invalid": (404, ("Link inválido", "Este link de atendimento não é válido. Confira se ele foi "
                                       "copiado inteiro ou peça um novo ao credor."),
                ("Invalid link", "This support link is not valid. Check that it was copied in "
                                 "full or ask the creditor for a new one.")),
    "expired": (410, ("Link expirado", "Este link de atendimento expirou. Peça um novo ao credor."),
                ("Link expired", "This support link has expired. Ask the creditor for a new one.")),
    "revoked": (410, ("Link cancelado", "Este link de atendimento foi cancelado. Peça um novo ao "
                                        "credor."),
                ("Link revoked", "This support link was revoked. Ask the creditor for a new one.")),
    "unbound": (410, ("Link sem efeito", "Este link não corresponde mais a um contato. Peça um "
                                         "novo ao credor."),
                ("Link no longer valid", "This link no longer matches a contact. Ask the creditor "
                                         "for a new one.")),
    "off": (404, ("Links desativados", "Este servidor não emite links de atendimento."),
            ("Links disabled", "This server does not issue support links.")),
}


@cache
def pages() -> Environment:
    return Environment(loader=PackageLoader("bot", "web"), autoescape=select_autoescape())


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
    """The demo chat page: only in demo mode (ACORDO_DEMO), for the demo creditor's contacts."""
    if not container.settings.demo:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the demo chat page is on in demo mode only")
    contacts = demo_contacts(container.clock.now().date())
    html = pages().get_template("chat.html").render(contacts=contacts, token=None)
    return HTMLResponse(html, headers=PAGE_HEADERS)


def link_error(reason: str) -> HTMLResponse:
    """The bilingual page of a link that does not open; it shows no data."""
    code, (title_pt, text_pt), (title_en, text_en) = LINK_ERRORS[reason]
    html = pages().get_template("link_error.html").render(
        code=code, title_pt=title_pt, text_pt=text_pt, title_en=title_en, text_en=text_en)
    return HTMLResponse(html, status_code=code, headers=PAGE_HEADERS)
