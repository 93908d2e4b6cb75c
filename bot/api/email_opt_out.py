"""``/u/{token}``: leave the e-mails (the ``List-Unsubscribe`` link of every e-mail).

``POST`` opts out at once: a mail client's one-click request (body
``List-Unsubscribe=One-Click``, RFC 8058) or the page's button. ``GET`` shows the page with
that button and never opts out by itself (link scanners and previews fetch URLs). A token
that names no contact gets the same bilingual "invalid link" page as a portal link, with
no data. Answers in the contact's language; the address is shown masked.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.api.chat_page import PAGE_HEADERS, link_error, pages
from bot.api.deps import ContainerDep
from bot.services.email_opt_out import EmailOptOut, OptOutTarget

router = APIRouter(tags=["pages"], include_in_schema=False)
TOKEN_MAX_CHARS = 40

TEXTS = {
    "pt-BR": {"title": "Deixar de receber e-mails de cobrança",
              "ask": "Deseja deixar de receber e-mails de cobrança de {creditor} em {address}?",
              "button": "Não quero mais receber",
              "done": "Pronto: {address} não receberá mais mensagens de cobrança de {creditor}.",
              "other": "Se houver uma dívida em aberto, o credor ainda pode procurar sua empresa "
                       "por carta ou por outro contato que vocês indicarem."},
    "en": {"title": "Stop receiving collection e-mails",
           "ask": "Do you want to stop receiving collection e-mails from {creditor} at {address}?",
           "button": "Stop sending me e-mails",
           "done": "Done: {address} will no longer receive collection messages from {creditor}.",
           "other": "If a debt is still open, the creditor may still reach your company by "
                    "letter or through another contact you name."},
}


def _service(container: ContainerDep) -> EmailOptOut | None:
    return container.channels.email_opt_out


def _page(target: OptOutTarget, state: str) -> HTMLResponse:
    locale = "en" if target.locale == "en" else "pt-BR"
    anyone = "o credor" if locale == "pt-BR" else "the creditor"
    values = {"creditor": target.creditor_name or anyone, "address": target.masked_address}
    texts = {key: text.format(**values) for key, text in TEXTS[locale].items()}
    html = pages().get_template("email_opt_out.html").render(t=texts, state=state, locale=locale)
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.get("/u/{token}", response_class=HTMLResponse)
async def opt_out_page(token: str, container: ContainerDep) -> HTMLResponse:
    service = _service(container)
    target = await service.target(token[:TOKEN_MAX_CHARS]) if service is not None else None
    if target is None:
        return link_error("invalid")
    return _page(target, "done" if target.already else "ask")


@router.post("/u/{token}", response_class=HTMLResponse)
async def opt_out(token: str, request: Request, container: ContainerDep) -> HTMLResponse:
    """One click (a mail client's ``List-Unsubscribe=One-Click``) or the page's button."""
    service = _service(container)
    form = await request.form()
    how = "one-click" if form.get("List-Unsubscribe") == "One-Click" else "page"
    outcome = await service.opt_out(token[:TOKEN_MAX_CHARS], how) if service is not None else "unknown"
    target = await service.target(token[:TOKEN_MAX_CHARS]) if service is not None else None
    if outcome == "unknown" or target is None:
        return link_error("invalid")
    return _page(target, "done")
