"""The debtor's portal page: ``GET /p/{token}`` and ``POST /p/{token}/accept``.

The page (``bot/web/portal.html``) shows the creditor, the open invoices, the offers the
policy allows today or the active agreement with its PIX, and the web chat bound to the
link's token. Accepting posts a same-origin form: the link's token says who the debtor
is, and the form's ``form`` field (derived from the token with the link secret) must
match, so that a page of another site cannot post for the debtor without the token.
Invalid, expired or foreign links get the polite bilingual page and no data.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_percent
from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.api.chat_page import PAGE_HEADERS, link_error, pages
from bot.api.client_address import client_address
from bot.api.deps import ContainerDep
from bot.api.web_identity import BoundLink, LinkRefused, verified_link
from bot.bootstrap import Container
from bot.rendering.renderer import format_money
from bot.services.portal import PortalRefused, PortalService
from bot.services.portal.proposal_form import ProposalForm
from bot.services.portal.requests import PortalRequests
from bot.services.portal.terms_pdf import render_terms_pdf
from bot.services.portal.views import Acceptance

router = APIRouter(tags=["pages"], include_in_schema=False)
LOCALES = ("pt-BR", "en")
DATE_FORMATS = {"pt-BR": "dd/MM/yyyy", "en": "MMM d, yyyy"}
REFUSALS = {"no_such_offer": (status.HTTP_404_NOT_FOUND,
                              "no such offer for this link: reload the page to see today's offers"),
            "unbound": (status.HTTP_410_GONE, "this link no longer matches a contact")}


def portal_service(container: Container) -> PortalService:
    return PortalService(container.uow, container.policies, container.clock, container.payments)


def portal_requests(container: Container) -> PortalRequests:
    return PortalRequests(container.uow, container.negotiation, container.renderer)


def form_key(container: Container, token: str) -> str:
    """The accept form's hidden field: the token signed with the link secret."""
    secret = container.settings.link_secret
    key = secret.get_secret_value().encode() if secret is not None else b""
    return hmac.new(key, b"portal-accept." + token.encode(), hashlib.sha256).hexdigest()[:32]


# A request for the terms before there is an agreement (pt-BR title and text, then English).
NO_AGREEMENT = (("Ainda não há acordo", "O termo de acordo fica disponível depois que você aceita "
                 "uma das opções de pagamento na sua página."),
                ("No agreement yet", "The agreement terms are available once you accept one of "
                 "the payment options on your page."))


def notice(code: int, texts: tuple[tuple[str, str], tuple[str, str]]) -> HTMLResponse:
    """A short bilingual page (the link error page's layout) that shows no debtor data."""
    (title_pt, text_pt), (title_en, text_en) = texts
    html = pages().get_template("link_error.html").render(
        code=code, title_pt=title_pt, text_pt=text_pt, title_en=title_en, text_en=text_en)
    return HTMLResponse(html, status_code=code, headers=PAGE_HEADERS)


def page_locale(asked: str | None, debtor_locale: str | None) -> str:
    if asked in LOCALES:
        return str(asked)
    return "en" if (debtor_locale or "").lower().startswith("en") else "pt-BR"


async def bound_link(container: Container, token: str) -> BoundLink | HTMLResponse:
    try:
        return await verified_link(container, token)
    except LinkRefused as exc:
        return link_error(exc.reason)


async def posted_link(container: Container, token: str, request: Request,
                      form: str) -> BoundLink | HTMLResponse:
    """The link of a form posted from its own page: the ``form`` field must be the link's
    HMAC and the browser must not mark the request cross-site (403 otherwise)."""
    bound = await bound_link(container, token)
    if isinstance(bound, HTMLResponse):
        return bound
    if not hmac.compare_digest(form.encode(), form_key(container, token).encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form does not come from this link's page")
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form must be posted from the page itself")
    return bound


def back_to_page(token: str, lang: str | None, anchor: str = "",
                 **params: str | int) -> RedirectResponse:
    """The 303 back to the page (POST-redirect-GET), with what the request left on it."""
    query = {**({"lang": lang} if lang in LOCALES else {}), **params}
    target = f"/p/{token}" + (f"?{urlencode(query)}" if query else "") + anchor
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER, headers=PAGE_HEADERS)


# What the page says after a request (``?feito=``), by the request's form.
DONE = ("proposta", "pago", "contestacao", "atendente", "sair")


@dataclass
class PageExtras:
    """What a request leaves on the page: which one was done, the bot's answer, the forms'
    values as typed and their errors (field -> code, shown next to the field)."""

    done: str | None = None
    answer_id: int | None = None  # the bot's reply to show (a message of this conversation)
    answer: str | None = None
    proposal: ProposalForm = field(default_factory=ProposalForm)
    errors: dict[str, str] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)  # the other forms' text, kept


async def render_page(container: Container, token: str, bound: BoundLink, lang: str | None,
                      extras: PageExtras | None = None, status_code: int = 200) -> HTMLResponse:
    """The debtor's page (with what a request left on it)."""
    try:
        page = await portal_service(container).page(bound.link)
    except PortalRefused:
        return link_error("unbound")
    locale = page_locale(lang, page.locale)
    zone = ZoneInfo(page.timezone)
    extras = extras or PageExtras()
    if extras.answer_id is not None:
        extras.answer = await portal_requests(container).reply_text(
            bound.link, extras.answer_id, locale)

    def money(value: Decimal) -> str:
        return format_money(value, "BRL", locale)

    def day(value: date | datetime) -> str:
        if isinstance(value, datetime):
            value = value.astimezone(zone).date()
        return format_date(value, DATE_FORMATS[locale], locale=locale.replace("-", "_"))

    def pct(value: Decimal) -> str:
        return format_percent(value / 100, "#,##0.##%", locale=locale.replace("-", "_"))

    html = pages().get_template("portal.html").render(
        page=page, lang=locale, token=token, form=form_key(container, token), money=money,
        day=day, pct=pct, expires=bound.link.expires_at.astimezone(zone), contacts=[],
        extras=extras, max_receipt=container.settings.receipt_max_bytes)
    return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


@router.get("/p/{token}", response_class=HTMLResponse)
async def portal(token: str, container: ContainerDep, lang: str | None = None,
                 feito: Annotated[str | None, Query(max_length=16)] = None,
                 resposta: Annotated[str | None, Query(max_length=20)] = None,
                 parcelas: Annotated[str, Query(max_length=64)] = "",
                 entrada: Annotated[str, Query(max_length=64)] = "",
                 data: Annotated[str, Query(max_length=64)] = "") -> HTMLResponse:
    """The debtor's page a portal link names; a bilingual page with no data when it does not
    open. After a request: what was done, the bot's answer and the proposal as typed."""
    bound = await bound_link(container, token)
    if isinstance(bound, HTMLResponse):
        return bound
    extras = PageExtras(done=feito if feito in DONE else None,
                        proposal=ProposalForm(parcelas, entrada, data).trimmed())
    if resposta is not None and resposta.isascii() and resposta.isdigit() and len(resposta) <= 18:
        extras.answer_id = int(resposta)
    return await render_page(container, token, bound, lang, extras)


@router.post("/p/{token}/accept")
async def accept(token: str, request: Request, container: ContainerDep,
                 offer: Annotated[str, Form(max_length=64)],
                 form: Annotated[str, Form(max_length=64)],
                 lang: Annotated[str | None, Form(max_length=8)] = None) -> Response:
    """Accept one of today's offers (by its reference); then the page shows the agreement."""
    bound = await posted_link(container, token, request, form)
    if isinstance(bound, HTMLResponse):
        return bound
    try:
        await portal_service(container).accept(
            bound.link, offer, Acceptance(str(bound.link_id), client_address(request)))
    except PortalRefused as exc:
        code, detail = REFUSALS[exc.reason]
        raise HTTPException(code, detail) from exc
    return back_to_page(token, lang)


@router.get("/p/{token}/termo.pdf")
async def terms_pdf(token: str, container: ContainerDep, lang: str | None = None) -> Response:
    """The "termo de acordo" of the debtor's agreement; 404 while there is none."""
    bound = await bound_link(container, token)
    if isinstance(bound, HTMLResponse):
        return bound
    try:
        document = await portal_service(container).terms(bound.link)
    except PortalRefused as exc:
        if exc.reason != "no_agreement":
            return link_error(exc.reason)
        return notice(status.HTTP_404_NOT_FOUND, NO_AGREEMENT)
    locale = page_locale(lang, document.locale)
    name = ("termo-de-acordo" if locale == "pt-BR" else "agreement-terms") + f"-{document.agreement_id}.pdf"
    return Response(render_terms_pdf(document, locale), media_type="application/pdf",
                    headers={**PAGE_HEADERS, "Content-Disposition": f'inline; filename="{name}"'})
