"""The debtor's portal page (/p/{token}): creditor, invoices with their balance broken down,
today's offers, accepting one (agreement created by the portal, PIX shown, once), the chat
inside, the audit of views and acceptances, and that a link never reveals another debtor."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest

from bot.conversation import commands as cmd
from bot.storage import models as db
from bot.storage.payment_models import PaymentCharge
from tests.conftest import NOW
from tests.support.portal import ACME, BETA, Portal, accept_plan, form_field, offer_refs, open_portal

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async for opened in open_portal(tmp_path):
        yield opened


async def test_the_page_shows_creditor_invoices_offers_and_the_chat_in_pt_br(portal: Portal) -> None:
    token = portal.token()
    page = await portal.http.get(f"/p/{token}")
    assert page.status_code == 200, page.text
    html = page.text
    assert '<html lang="pt-BR">' in html
    assert "Distribuidora Exemplo Ltda" in html and "11.222.333/0001-81" in html
    assert "Confira o nome e o CNPJ do recebedor" in html
    # NF-acme: R$ 7.350,00 due 06/11/2026, 20 days late on 26/11/2026: multa 2% = 147,00,
    # juros 1% a.m. pro rata = 7350 * 1% * 20/30 = 49,00; balance 7.546,00.
    assert "NF-acme" in html and "R$ 7.350,00" in html and "R$ 147,00" in html
    assert "R$ 49,00" in html and "R$ 7.546,00" in html
    assert "Pagamento à vista" in html and "Parcelado em 2 vezes" in html
    refs = offer_refs(html)
    assert len(refs) >= 3 and len(set(refs)) == len(refs)
    # Every installment of every plan is listed with its date.
    assert re.search(r"<td>1/2</td><td>\d\d/\d\d/2026</td><td class=\"n\">R\$ [\d.]+,\d\d</td>", html)
    assert re.search(r"<td>2/2</td><td>\d\d/\d\d/20\d\d</td><td class=\"n\">R\$ [\d.]+,\d\d</td>", html)
    # The chat, bound to the token, inside the page.
    assert 'id="log"' in html and 'id="text"' in html and token in html and 'id="sender"' not in html
    assert "Acme Comércio Ltda" in html
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"


async def test_link_previews_name_the_creditor_only(portal: Portal) -> None:
    html = (await portal.http.get(f"/p/{portal.token()}")).text
    meta = "\n".join(re.findall(r"<meta [^>]*>|<title>.*?</title>", html))
    assert 'og:title" content="Distribuidora Exemplo Ltda"' in meta
    for secret in ("R$", "7.546", "7350", "Acme", "rita@"):
        assert secret not in meta


async def test_english_follows_the_debtor_locale_and_the_switch(portal: Portal) -> None:
    english = (await portal.http.get(f"/p/{portal.token(BETA)}")).text
    assert '<html lang="en">' in english and "Pay in full" in english and "Open invoices" in english
    assert "Late fee" in english and "R$1,234.56" in english
    portuguese = (await portal.http.get(f"/p/{portal.token(BETA)}", params={"lang": "pt-BR"})).text
    assert '<html lang="pt-BR">' in portuguese and "Pagamento à vista" in portuguese
    switched = (await portal.http.get(f"/p/{portal.token()}", params={"lang": "en"})).text
    assert "Pay in full" in switched and "R$7,546.00" in switched
    odd = await portal.http.get(f"/p/{portal.token()}", params={"lang": "xx"})
    assert odd.status_code == 200 and '<html lang="pt-BR">' in odd.text


async def test_accepting_a_plan_creates_the_portal_agreement_and_shows_its_pix(portal: Portal) -> None:
    token = portal.token()
    _, response = await accept_plan(portal, token)
    assert response.status_code == 303
    assert response.headers["location"] == f"/p/{token}"
    agreements = await portal.rows(db.Agreement)
    assert len(agreements) == 1 and agreements[0].created_by == "portal"
    assert agreements[0].kind == "installments"
    offers = await portal.rows(db.Offer)
    assert [o.status for o in offers] == ["accepted"]
    debts = await portal.rows(db.Debt)
    assert {d.external_id: d.status for d in debts}["NF-acme"] == "in_agreement"
    events = await portal.rows(db.AuditEvent)
    created = [e for e in events if e.kind == "agreement_created"]
    assert len(created) == 1 and created[0].actor == "portal"
    assert created[0].data["created_by"] == "portal"
    page = (await portal.http.get(f"/p/{token}")).text
    assert 'id="agreement"' in page and 'id="offers"' not in page
    code = re.search(r'<code id="pix-code" class="pixcode">(000201[^<]+)</code>', page)
    assert code is not None and "copy-pix" in page
    charges = await portal.rows(PaymentCharge)
    installments = await portal.rows(db.Installment)
    assert len(charges) == 1 and unescape(code.group(1)) == charges[0].payload
    assert charges[0].amount == installments[0].amount and charges[0].installment_id == installments[0].id
    picture = re.search(r'<img id="pix-qr" src="(/pay/AC[0-9A-F]+\.png)"', page)
    assert picture is not None
    png = await portal.http.get(picture.group(1))
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # The conversation now knows the agreement: the chat would say so.
    conversations = await portal.rows(db.Conversation)
    assert conversations[0].negotiation["stage"] == "agreed"


async def test_accepting_twice_creates_one_agreement(portal: Portal) -> None:
    token = portal.token()
    html = (await portal.http.get(f"/p/{token}")).text
    refs, form = offer_refs(html), form_field(html)
    for ref in (refs[1], refs[1], refs[0]):
        response = await portal.http.post(f"/p/{token}/accept", data={"offer": ref, "form": form})
        assert response.status_code == 303
    assert len(await portal.rows(db.Agreement)) == 1
    # Each view shows the first installment's charge: issued once, then reused.
    await portal.http.get(f"/p/{token}")
    await portal.http.get(f"/p/{token}")
    assert len(await portal.rows(PaymentCharge)) == 1


async def test_accepting_at_once_from_two_tabs_creates_one_agreement(portal: Portal) -> None:
    """Two accepts racing on SQLite (the second transaction waits for the first's write)."""
    token = portal.token()
    html = (await portal.http.get(f"/p/{token}")).text
    refs, form = offer_refs(html), form_field(html)
    responses = await asyncio.gather(*(
        portal.http.post(f"/p/{token}/accept", data={"offer": ref, "form": form})
        for ref in (refs[1], refs[0], refs[1], refs[2])))
    assert [r.status_code for r in responses] == [303] * 4, [r.text[:200] for r in responses]
    assert len(await portal.rows(db.Agreement)) == 1


async def test_views_and_acceptances_are_audited(portal: Portal) -> None:
    token = portal.token()
    await accept_plan(portal, token, index=0)
    kinds = await portal.audit_kinds()
    assert kinds.count("portal_viewed") == 1
    assert kinds.index("offer_made") < kinds.index("agreement_created")
    await portal.http.get(f"/p/{token}")
    events = [e for e in await portal.rows(db.AuditEvent) if e.kind == "portal_viewed"]
    assert len(events) == 2 and all(e.actor == "portal" for e in events)
    assert events[0].data["offers"] and events[1].data["agreement_id"] is not None


async def test_a_forged_form_is_refused(portal: Portal) -> None:
    token = portal.token()
    html = (await portal.http.get(f"/p/{token}")).text
    ref = offer_refs(html)[0]
    bad = await portal.http.post(f"/p/{token}/accept", data={"offer": ref, "form": "0" * 32})
    assert bad.status_code == 403
    missing = await portal.http.post(f"/p/{token}/accept", data={"offer": ref})
    assert missing.status_code == 422
    cross = await portal.http.post(f"/p/{token}/accept", data={"offer": ref, "form": form_field(html)},
                                   headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    assert await portal.rows(db.Agreement) == []


async def test_a_link_never_reveals_nor_accepts_for_another_debtor(portal: Portal) -> None:
    acme, beta = portal.token(ACME), portal.token(BETA)
    acme_html = (await portal.http.get(f"/p/{acme}")).text
    beta_html = (await portal.http.get(f"/p/{beta}")).text
    for secret in ("Beta Comércio", "NF-beta", "1.234,56", "joe@beta"):
        assert secret not in acme_html
    for secret in ("Acme Comércio", "NF-acme", "7,350.00", "rita@acme"):
        assert secret not in beta_html
    # Beta's offers posted with Acme's link (and Acme's form field) are refused.
    for ref in offer_refs(beta_html):
        response = await portal.http.post(f"/p/{acme}/accept",
                                          data={"offer": ref, "form": form_field(acme_html)})
        assert response.status_code == 404 and "no such offer" in response.json()["detail"]
    # Beta's form field with Acme's link: refused too.
    crossed = await portal.http.post(f"/p/{acme}/accept", data={
        "offer": offer_refs(acme_html)[0], "form": form_field(beta_html)})
    assert crossed.status_code == 403
    assert await portal.rows(db.Agreement) == []
    # Once Beta has an agreement, Acme's page still shows none of it.
    await accept_plan(portal, beta, index=0)
    again = (await portal.http.get(f"/p/{acme}")).text
    assert 'id="agreement"' not in again and "pix-code" not in again and "Beta" not in again
    # Beta's stored offer and agreement (their ids and reference) with Acme's link: refused.
    beta_offer, beta_agreement = (await portal.rows(db.Offer))[0], (await portal.rows(db.Agreement))[0]
    accepted_ref = offer_refs(beta_html)[0]
    for foreign in (str(beta_offer.id), str(beta_agreement.id), accepted_ref):
        response = await portal.http.post(f"/p/{acme}/accept",
                                          data={"offer": foreign, "form": form_field(again)})
        assert response.status_code == 404, foreign
    assert [a.debtor_id for a in await portal.rows(db.Agreement)] == [beta_agreement.debtor_id]


async def test_an_expired_link_shows_no_data_and_accepts_nothing(portal: Portal) -> None:
    token = portal.token(days=1)
    html = (await portal.http.get(f"/p/{token}")).text
    form, ref = form_field(html), offer_refs(html)[0]
    portal.clock.moment = NOW + timedelta(days=2)
    page = await portal.http.get(f"/p/{token}")
    assert page.status_code == 410 and "expirou" in page.text and "expired" in page.text
    for secret in ("Acme", "NF-acme", "R$", "Distribuidora"):
        assert secret not in page.text
    posted = await portal.http.post(f"/p/{token}/accept", data={"offer": ref, "form": form})
    assert posted.status_code == 410 and "R$" not in posted.text
    assert await portal.rows(db.Agreement) == []


async def test_after_accepting_on_the_page_the_chat_knows_the_agreement(portal: Portal) -> None:
    token = portal.token()
    await accept_plan(portal, token)
    conversation = (await portal.rows(db.Conversation))[0]
    outcome = await portal.container.negotiation.execute(
        conversation.public_id, cmd.OfferInstallments(text="quero parcelar"))
    assert [r.template for r in outcome.replies] == ["already_agreed"]
    assert len(await portal.rows(db.Agreement)) == 1
