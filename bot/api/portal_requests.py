"""The debtor's requests on the portal page: a counter-proposal, "já paguei" with a receipt,
a dispute, talking to a person, and stopping the messages.

Each form posts the page's ``form`` field (the link's HMAC) and is refused cross-site, like
the accept form (``posted_link``); what cannot be a request (a proposal that states no
terms, a receipt that is not a JPEG, PNG or PDF, a dispute without a reason) is answered
422 with the page, the values as typed and the error next to the field. A request is
carried out as its chat counterpart (``bot/services/portal/requests.py``); then a 303 back
to the page, which says what was done and shows the bot's answer.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from bot.api.deps import ContainerDep
from bot.api.portal_page import (
    PageExtras,
    back_to_page,
    page_locale,
    portal_requests,
    posted_link,
    render_page,
)
from bot.channels.base import Receipt
from bot.conversation import commands as cmd
from bot.services.portal.proposal_form import ProposalForm, read_proposal
from bot.services.portal.requests import receipt_type

router = APIRouter(tags=["pages"], include_in_schema=False)
FormField = Annotated[str, Form(max_length=64)]
LangField = Annotated[str | None, Form(max_length=8)]
TextField = Annotated[str, Form(max_length=2000)]
UNPROCESSABLE = 422
# The debtor's request as stored in the conversation (the agent reads it), by page language.
LABELS = {
    "pt-BR": {"proposal": "Proposta pela página", "count": "{n} pagamento(s)",
              "down": "entrada de {v}", "first": "primeiro pagamento em {v}",
              "paid": "Já paguei (pela página)", "receipt": "comprovante enviado",
              "dispute": "Contestação (pela página)", "human": "Quero falar com uma pessoa",
              "opt_out": "Não quero mais receber mensagens (confirmado na página)"},
    "en": {"proposal": "Proposal on the page", "count": "{n} payment(s)",
           "down": "down payment of {v}", "first": "first payment on {v}",
           "paid": "I have already paid (on the page)", "receipt": "receipt sent",
           "dispute": "Dispute (on the page)", "human": "I want to talk to a person",
           "opt_out": "I do not want any more messages (confirmed on the page)"},
}


def labels(lang: str | None) -> dict[str, str]:
    return LABELS[page_locale(lang, None)]


@router.post("/p/{token}/propose")
async def propose(token: str, request: Request, container: ContainerDep, form: FormField,
                  installments: FormField = "", down_payment: FormField = "",
                  first_due: FormField = "", lang: LangField = None) -> Response:
    """The debtor's terms, evaluated by the negotiation core as the chat's ``propose_terms``."""
    bound = await posted_link(container, token, request, form)
    if isinstance(bound, HTMLResponse):
        return bound
    typed = ProposalForm(installments, down_payment, first_due).trimmed()
    today = container.clock.now().astimezone(ZoneInfo(bound.timezone)).date()
    read = read_proposal(typed, today, page_locale(lang, None))
    if read.proposal is None:
        extras = PageExtras(proposal=typed, errors=read.errors)
        return await render_page(container, token, bound, lang, extras, UNPROCESSABLE)
    t = labels(lang)
    said = [t["count"].format(n=typed.installments) if typed.installments else "",
            t["down"].format(v=typed.down_payment) if typed.down_payment else "",
            t["first"].format(v=typed.first_due) if typed.first_due else ""]
    summary = f"{t['proposal']}: " + ", ".join(part for part in said if part)
    done = await portal_requests(container).submit(
        bound.link, summary, cmd.EvaluateProposal(text="", terms=read.proposal))
    return back_to_page(token, lang, "#proposal", feito="proposta",
                        resposta=done.reply_ids[0] if done.reply_ids else "",
                        parcelas=typed.installments, entrada=typed.down_payment,
                        data=typed.first_due)


@router.post("/p/{token}/paid")
async def already_paid(token: str, request: Request, container: ContainerDep, form: FormField,
                       note: TextField = "", lang: LangField = None,
                       receipt: Annotated[UploadFile | None, File()] = None) -> Response:
    """"Já paguei": a payment claim (with the receipt, when one is sent), as in the chat."""
    bound = await posted_link(container, token, request, form)
    if isinstance(bound, HTMLResponse):
        return bound
    receipts: list[Receipt] = []
    if receipt is not None and (receipt.filename or receipt.size):
        limit = container.settings.receipt_max_bytes
        content = await receipt.read(limit + 1)
        kind = receipt_type(content)
        if len(content) > limit or kind is None:
            error = "too_big" if len(content) > limit else "not_a_receipt"
            extras = PageExtras(errors={"receipt": error}, texts={"note": note})
            return await render_page(container, token, bound, lang, extras, UNPROCESSABLE)
        receipts.append(Receipt(kind, content))
    t = labels(lang)
    text = note.strip() or t["paid"]
    stored = text + (f" ({t['receipt']})" if receipts else "")
    done = await portal_requests(container).submit(
        bound.link, stored, cmd.RecordAlreadyPaid(text=text), receipts)
    return back_to_page(token, lang, "#actions", feito="pago", resposta=first(done.reply_ids))


@router.post("/p/{token}/dispute")
async def dispute(token: str, request: Request, container: ContainerDep, form: FormField,
                  reason: TextField = "", lang: LangField = None) -> Response:
    """The debtor disputes the debt, with a reason: the chat's ``dispute_debt``."""
    bound = await posted_link(container, token, request, form)
    if isinstance(bound, HTMLResponse):
        return bound
    if len(reason.strip()) < 3:
        extras = PageExtras(errors={"reason": "reason_needed"}, texts={"reason": reason})
        return await render_page(container, token, bound, lang, extras, UNPROCESSABLE)
    text = f"{labels(lang)['dispute']}: {reason.strip()}"
    done = await portal_requests(container).submit(
        bound.link, text, cmd.HandOffToAgent(text=reason.strip(), intent="dispute_debt"))
    return back_to_page(token, lang, "#actions", feito="contestacao", resposta=first(done.reply_ids))


@router.post("/p/{token}/human")
async def talk_to_a_person(token: str, request: Request, container: ContainerDep,
                           form: FormField, lang: LangField = None) -> Response:
    """A person takes over (the chat's ``request_human``); the page's chat goes on with them."""
    bound = await posted_link(container, token, request, form)
    if isinstance(bound, HTMLResponse):
        return bound
    text = labels(lang)["human"]
    done = await portal_requests(container).submit(
        bound.link, text, cmd.HandOffToAgent(text=text, intent="request_human"))
    return back_to_page(token, lang, "#chat", feito="atendente", resposta=first(done.reply_ids))


@router.post("/p/{token}/opt-out")
async def opt_out(token: str, request: Request, container: ContainerDep, form: FormField,
                  confirm: FormField = "", lang: LangField = None) -> Response:
    """No more messages (the chat's ``opt_out``), once the debtor confirmed it."""
    bound = await posted_link(container, token, request, form)
    if isinstance(bound, HTMLResponse):
        return bound
    if confirm != "yes":
        extras = PageExtras(errors={"confirm": "confirm_needed"})
        return await render_page(container, token, bound, lang, extras, UNPROCESSABLE)
    text = labels(lang)["opt_out"]
    done = await portal_requests(container).submit(
        bound.link, text, cmd.OptOut(text=text, intent="opt_out", confidence=1.0))
    return back_to_page(token, lang, "#actions", feito="sair", resposta=first(done.reply_ids))


def first(ids: list[int]) -> int | str:
    return ids[0] if ids else ""
