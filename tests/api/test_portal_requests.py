"""The debtor's requests on the portal page: a counter-proposal evaluated by the chat's
negotiation core (refused with the chat's reasons and the values kept, then accepted through
the accept path), "já paguei" with a receipt (a payment claim, checked by its bytes), a
dispute, a person, and stopping the messages; hostile input answered 422 with the page;
every form refused when forged or cross-site."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from html import unescape
from pathlib import Path

import httpx
import pytest

from bot.storage import models as db
from bot.storage.claim_models import ClaimAttachment, PaymentClaim
from tests.support.portal import BETA, Portal, form_field, open_portal

pytestmark = pytest.mark.timeout(90)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async for opened in open_portal(tmp_path):
        yield opened


async def page_form(portal: Portal, token: str) -> str:
    return form_field((await portal.http.get(f"/p/{token}")).text)


async def propose(portal: Portal, token: str, **fields: str) -> httpx.Response:
    data = {"form": await page_form(portal, token), "installments": "", "down_payment": "",
            "first_due": "", **fields}
    return await portal.http.post(f"/p/{token}/propose", data=data)


def answer(html: str) -> str:
    found = re.search(r'<p class="said">(.*?)</p>', html, re.S)
    assert found is not None, html[-3000:]
    return unescape(found.group(1))


def proposed_ref(html: str) -> str:
    found = re.search(r'id="proposed-([0-9a-f]+)"', html)
    assert found is not None
    return found.group(1)


async def test_a_proposal_beyond_the_limits_gets_the_chat_s_reasons_then_is_accepted(portal: Portal) -> None:
    token = portal.token()
    response = await propose(portal, token, installments="24")
    assert response.status_code == 303 and response.headers["location"].endswith("#proposal")
    html = (await portal.http.get(response.headers["location"])).text
    said = answer(html)
    assert "Do jeito que foi pedido não consigo aceitar" in said
    assert re.search(r"o máximo é de \d+ parcelas", said)
    assert 'value="24"' in html  # the values as typed stay in the form
    kinds = await portal.audit_kinds()
    assert kinds.count("offer_made") == 1
    # The debtor's request and the bot's answer are in the conversation (the agent sees them).
    messages = await portal.rows(db.Message)
    assert messages[0].direction == "in" and "24 pagamento" in messages[0].text
    assert messages[1].template == "counter_offer" and messages[1].status == "queued"
    offer = (await portal.rows(db.Offer))[-1]
    ref = proposed_ref(html)
    accepted = await portal.http.post(f"/p/{token}/accept", data={"offer": ref, "form": form_field(html)})
    assert accepted.status_code == 303
    agreements = await portal.rows(db.Agreement)
    assert len(agreements) == 1 and agreements[0].created_by == "portal"
    assert agreements[0].offer_id == offer.id and len(await portal.rows(db.Offer)) == 1
    assert len(await portal.rows(db.Installment)) == len(offer.installments)


async def test_a_proposal_within_the_limits_is_offered_as_asked_and_accepted(portal: Portal) -> None:
    token = portal.token()
    when = portal.clock.now().date().replace(day=28).isoformat()  # 28/11: within the first week
    response = await propose(portal, token, installments="3", down_payment="3.000,00", first_due=when)
    html = (await portal.http.get(response.headers["location"])).text
    said = answer(html)
    assert "Entendi a sua proposta" in said and "3 parcelas" in said and "R$ 3.000,00" in said
    ref = proposed_ref(html)
    await portal.http.post(f"/p/{token}/accept", data={"offer": ref, "form": form_field(html)})
    installments = await portal.rows(db.Installment)
    assert [i.amount for i in installments][0] == 3000 and len(installments) == 3
    assert installments[0].due_date.isoformat() == when


async def test_the_answer_follows_the_page_language(portal: Portal) -> None:
    token = portal.token(BETA)
    response = await propose(portal, token, installments="24", lang="en")
    html = (await portal.http.get(response.headers["location"])).text
    assert "lang=en" in response.headers["location"]
    assert "the maximum is" in answer(html) and "Make a proposal" in html


HOSTILE = [
    ({"installments": "-1"}, "installments", "Use apenas números"),
    ({"installments": "abc"}, "installments", "Use apenas números"),
    ({"installments": "1000"}, "installments", "Informe de 1 a 120"),
    ({"installments": "0"}, "installments", "Informe de 1 a 120"),
    ({"installments": "١٢"}, "installments", "Use apenas números"),
    ({"installments": "2", "down_payment": "1" + "0" * 30}, "down_payment", "Valor grande demais"),
    ({"installments": "2", "down_payment": "-50"}, "down_payment", "não pode ser negativo"),
    ({"installments": "2", "down_payment": "1e5"}, "down_payment", "Use apenas números"),
    ({"installments": "2", "down_payment": "NaN"}, "down_payment", "Use apenas números"),
    ({"installments": "2", "first_due": "2020-01-01"}, "first_due", "A data já passou"),
    ({"installments": "2", "first_due": "2027-02-31"}, "first_due", "Data inválida"),
    ({"installments": "2", "first_due": "9999-12-31"}, "first_due", "próximos 12 meses"),
    ({"installments": "2", "first_due": "amanhã"}, "first_due", "Data inválida"),
    ({}, "installments", "Preencha ao menos"),
]


@pytest.mark.parametrize(("fields", "field", "message"), HOSTILE)
async def test_hostile_proposals_get_the_form_back_with_the_error(
        portal: Portal, fields: dict[str, str], field: str, message: str) -> None:
    token = portal.token()
    response = await propose(portal, token, **fields)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text and message in response.text
    assert f'id="{field}" ' in response.text and 'aria-invalid="true"' in response.text
    for value in fields.values():
        assert f'value="{value}"' in response.text
    assert await portal.rows(db.Offer) == [] and await portal.rows(db.Message) == []


async def test_too_long_fields_are_refused_without_a_server_error(portal: Portal) -> None:
    token = portal.token()
    response = await propose(portal, token, installments="9" * 100)
    assert response.status_code == 422 and await portal.rows(db.Offer) == []


async def test_already_paid_with_a_receipt_opens_a_claim_with_the_attachment(portal: Portal) -> None:
    token = portal.token()
    form = await page_form(portal, token)
    response = await portal.http.post(
        f"/p/{token}/paid", data={"form": form, "note": "paguei dia 20 pelo Itaú"},
        files={"receipt": ("comprovante.bin", PDF, "application/octet-stream")})
    assert response.status_code == 303 and "feito=pago" in response.headers["location"]
    claims = await portal.rows(PaymentClaim)
    attachments = await portal.rows(ClaimAttachment)
    assert len(claims) == 1 and claims[0].status == "pending" and "Itaú" in claims[0].text
    assert len(attachments) == 1 and attachments[0].content_type == "application/pdf"
    assert attachments[0].content == PDF and attachments[0].claim_id == claims[0].id
    events = [e for e in await portal.rows(db.AuditEvent) if e.kind == "already_paid_reported"]
    assert len(events) == 1 and events[0].data["claim_id"] == claims[0].id
    html = (await portal.http.get(response.headers["location"])).text
    assert "Recebemos o seu aviso de pagamento" in html
    # A second receipt goes on the same pending claim.
    await portal.http.post(f"/p/{token}/paid", data={"form": form},
                           files={"receipt": ("r.png", PNG, "image/png")})
    assert len(await portal.rows(PaymentClaim)) == 1 and len(await portal.rows(ClaimAttachment)) == 2


@pytest.mark.parametrize(("content", "declared"), [
    (b"MZ\x90\x00" + b"\x00" * 64, "image/png"),  # a program declared as a picture
    (b"<html><script>alert(1)</script>", "application/pdf"),
    (b"", "image/jpeg"),
])
async def test_a_file_that_is_not_a_receipt_is_refused(portal: Portal, content: bytes, declared: str) -> None:
    token = portal.token()
    response = await portal.http.post(
        f"/p/{token}/paid", data={"form": await page_form(portal, token), "note": "segue"},
        files={"receipt": ("recibo.png", content, declared)})
    assert response.status_code == 422 and "JPEG ou PNG, ou um PDF" in response.text
    assert ">segue</textarea>" in response.text
    assert await portal.rows(PaymentClaim) == [] and await portal.rows(db.Message) == []


async def test_a_receipt_over_the_size_limit_is_refused(portal: Portal) -> None:
    token = portal.token()
    limit = portal.container.settings.receipt_max_bytes
    response = await portal.http.post(
        f"/p/{token}/paid", data={"form": await page_form(portal, token)},
        files={"receipt": ("big.png", PNG + b"\x00" * limit, "image/png")})
    assert response.status_code == 422 and "tamanho máximo" in response.text
    assert await portal.rows(PaymentClaim) == []


async def test_a_dispute_marks_the_debts_and_hands_off(portal: Portal) -> None:
    token = portal.token()
    form = await page_form(portal, token)
    empty = await portal.http.post(f"/p/{token}/dispute", data={"form": form, "reason": "  "})
    assert empty.status_code == 422 and "Escreva o motivo" in empty.text
    response = await portal.http.post(f"/p/{token}/dispute", data={
        "form": form, "reason": "Esta nota foi cancelada em outubro"})
    assert response.status_code == 303
    debts = {d.external_id: d.status for d in await portal.rows(db.Debt)}
    assert debts["NF-acme"] == "disputed" and debts["NF-beta"] == "open"
    handoffs = [e for e in await portal.rows(db.AuditEvent) if e.kind == "handoff"]
    assert [e.data["reason"] for e in handoffs] == ["dispute_debt"]
    conversation = (await portal.rows(db.Conversation))[0]
    assert conversation.state == "human"
    inbound = [m for m in await portal.rows(db.Message) if m.direction == "in"]
    assert "nota foi cancelada" in inbound[0].text


async def test_talking_to_a_person_hands_off_and_the_chat_goes_on(portal: Portal) -> None:
    token = portal.token()
    response = await portal.http.post(f"/p/{token}/human", data={"form": await page_form(portal, token)})
    assert response.status_code == 303 and response.headers["location"].endswith("#chat")
    handoffs = [e for e in await portal.rows(db.AuditEvent) if e.kind == "handoff"]
    assert [e.data["reason"] for e in handoffs] == ["request_human"]
    html = (await portal.http.get(f"/p/{token}")).text
    assert "está cuidando do seu atendimento" in html and 'id="human"' not in html
    # The chat panel of the page receives the handoff answer.
    polled = await portal.http.get("/channels/web/messages", params={"token": token})
    assert polled.status_code == 200, polled.text
    assert "Uma pessoa da equipe" in polled.text


async def test_opting_out_needs_the_confirmation(portal: Portal) -> None:
    token = portal.token()
    form = await page_form(portal, token)
    unconfirmed = await portal.http.post(f"/p/{token}/opt-out", data={"form": form})
    assert unconfirmed.status_code == 422 and "Marque a confirmação" in unconfirmed.text
    assert "opted_out" not in await portal.audit_kinds()
    response = await portal.http.post(f"/p/{token}/opt-out", data={"form": form, "confirm": "yes"})
    assert response.status_code == 303
    contact = next(c for c in await portal.rows(db.Contact) if c.address == "rita@acme.com.br")
    assert contact.status == "opted_out" and (await portal.audit_kinds()).count("opted_out") == 1
    html = (await portal.http.get(response.headers["location"])).text
    assert "não receberá mais mensagens" in html and 'id="opt-out"' not in html


@pytest.mark.parametrize("action", ["propose", "paid", "dispute", "human", "opt-out"])
async def test_every_form_is_refused_when_forged_or_cross_site(portal: Portal, action: str) -> None:
    token, beta = portal.token(), portal.token(BETA)
    data = {"installments": "3", "reason": "não devo", "confirm": "yes"}
    forged = await portal.http.post(f"/p/{token}/{action}", data={**data, "form": "0" * 32})
    crossed = await portal.http.post(f"/p/{token}/{action}",
                                     data={**data, "form": await page_form(portal, beta)})
    cross_site = await portal.http.post(f"/p/{token}/{action}",
                                        data={**data, "form": await page_form(portal, token)},
                                        headers={"Sec-Fetch-Site": "cross-site"})
    assert [forged.status_code, crossed.status_code, cross_site.status_code] == [403] * 3
    assert await portal.rows(db.Message) == [] and await portal.rows(PaymentClaim) == []
    assert "handoff" not in await portal.audit_kinds() and "opted_out" not in await portal.audit_kinds()


async def test_while_a_person_has_the_conversation_requests_wait_for_them(portal: Portal) -> None:
    token = portal.token()
    form = await page_form(portal, token)
    await portal.http.post(f"/p/{token}/human", data={"form": form})
    replies_before = [m.id for m in await portal.rows(db.Message) if m.direction == "out"]
    response = await propose(portal, token, installments="3")
    assert response.status_code == 303
    assert "offer_made" not in await portal.audit_kinds()
    messages = await portal.rows(db.Message)
    assert [m.id for m in messages if m.direction == "out"] == replies_before  # the bot is silent
    assert replies_before  # the handoff's own answer
    assert "3 pagamento" in messages[-1].text and messages[-1].direction == "in"
    # A receipt still goes on the claim, as a receipt sent in the chat does.
    await portal.http.post(f"/p/{token}/paid", data={"form": form},
                           files={"receipt": ("r.png", PNG, "image/png")})
    assert len(await portal.rows(ClaimAttachment)) == 1
    # Stopping the messages always works.
    await portal.http.post(f"/p/{token}/opt-out", data={"form": form, "confirm": "yes"})
    assert "opted_out" in await portal.audit_kinds()


async def test_already_paid_at_once_from_two_tabs_opens_one_claim(portal: Portal) -> None:
    """Four reports racing on SQLite: the claim is opened once (as in the chat)."""
    token = portal.token()
    form = await page_form(portal, token)
    responses = await asyncio.gather(*(
        portal.http.post(f"/p/{token}/paid", data={"form": form, "note": f"paguei {n}"},
                         files={"receipt": ("r.png", PNG, "image/png")} if n % 2 else None)
        for n in range(4)))
    assert [r.status_code for r in responses] == [303] * 4
    assert len(await portal.rows(PaymentClaim)) == 1
    assert len(await portal.rows(ClaimAttachment)) == 2


@pytest.mark.parametrize("query", [
    {"resposta": "abc"}, {"resposta": "9" * 18}, {"resposta": "-1"}, {"resposta": "0"},
    {"resposta": "9" * 19}, {"feito": "<script>"}, {"parcelas": "<b>x</b>", "entrada": "1e999"},
])
async def test_odd_page_parameters_show_the_page_and_nothing_else(
        portal: Portal, query: dict[str, str]) -> None:
    token = portal.token()
    plain = (await portal.http.get(f"/p/{token}")).text
    response = await portal.http.get(f"/p/{token}", params=query)
    assert response.status_code == 200
    assert 'class="said"' not in response.text and 'class="answer"' not in response.text
    assert response.text.count("<script") == plain.count("<script")
    assert "<b>x</b>" not in response.text


async def test_too_long_page_parameters_are_a_client_error(portal: Portal) -> None:
    for query in ({"resposta": "1" * 50}, {"entrada": "\x00"}, {"parcelas": "9" * 100}):
        response = await portal.http.get(f"/p/{portal.token()}", params=query)
        assert response.status_code == 422, query
