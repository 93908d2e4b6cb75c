"""No other debtor's data is reachable with a valid portal link: every reference the page's
URLs and forms carry (offer references and ids, agreement ids, the bot's reply ids, the terms
PDF, the PIX codes) is checked against the link's own debtor; a foreign one answers 404 (or
is simply not shown) and creates nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest

from bot.storage import models as db
from bot.storage.claim_models import PaymentClaim
from bot.storage.payment_models import PaymentCharge
from tests.support.portal import ACME, BETA, Portal, accept_plan, form_field, offer_refs, open_portal

pytestmark = pytest.mark.timeout(90)
BETA_SECRETS = ("Beta Comércio", "NF-beta", "1.234,56", "1,234.56", "joe@beta")


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async for opened in open_portal(tmp_path):
        yield opened


async def test_beta_s_references_with_acme_s_link_reach_nothing(portal: Portal) -> None:
    acme, beta = portal.token(ACME), portal.token(BETA)
    beta_html = (await portal.http.get(f"/p/{beta}")).text
    # Beta proposes (a pending offer and the bot's answer in Beta's conversation), claims a
    # payment, then accepts: an agreement and a PIX charge of Beta's.
    proposed = await portal.http.post(f"/p/{beta}/propose", data={
        "form": form_field(beta_html), "installments": "24", "lang": "en"})
    reply_id = dict(p.split("=") for p in proposed.headers["location"].split("?")[1].split("#")[0]
                    .split("&"))["resposta"]
    beta_page = (await portal.http.get(proposed.headers["location"])).text
    pending = re.search(r'id="proposed-([0-9a-f]+)"', beta_page)
    assert pending is not None and "the maximum is" in beta_page  # shown on Beta's own page
    beta_pending = pending.group(1)
    await portal.http.post(f"/p/{beta}/paid", data={"form": form_field(beta_html), "note": "paid"})
    await accept_plan(portal, beta, index=0)
    await portal.http.get(f"/p/{beta}")  # issues Beta's PIX charge
    beta_agreement = (await portal.rows(db.Agreement))[0]
    beta_charge = (await portal.rows(PaymentCharge))[0]
    before = {model: len(await portal.rows(model))
              for model in (db.Agreement, db.Offer, PaymentClaim, db.Message, PaymentCharge)}

    acme_html = (await portal.http.get(f"/p/{acme}")).text
    acme_form = form_field(acme_html)
    # The bot's reply to Beta, asked for through Acme's page: not shown.
    shown = (await portal.http.get(f"/p/{acme}", params={"feito": "proposta", "resposta": reply_id})).text
    assert "maximum" not in shown and 'class="said"' not in shown
    # Beta's offer references, stored offer id and agreement id posted with Acme's link.
    for foreign in (*offer_refs(beta_html), beta_pending, str(beta_agreement.id),
                    str(beta_agreement.offer_id)):
        response = await portal.http.post(f"/p/{acme}/accept", data={"offer": foreign, "form": acme_form})
        assert response.status_code == 404, foreign
    # Acme has no agreement: no terms, whatever the id.
    assert (await portal.http.get(f"/p/{acme}/termo.pdf")).status_code == 404
    for page in (acme_html, shown):
        assert beta_charge.txid not in page and "pix-code" not in page
        for secret in BETA_SECRETS:
            assert secret not in page
    after = {model: len(await portal.rows(model)) for model in before}
    assert after == before


async def test_each_link_s_pdf_and_pix_are_its_own(portal: Portal) -> None:
    pypdf = pytest.importorskip("pypdf")
    acme, beta = portal.token(ACME), portal.token(BETA)
    await accept_plan(portal, beta, index=1)
    await accept_plan(portal, acme, index=1)
    acme_page = (await portal.http.get(f"/p/{acme}")).text
    await portal.http.get(f"/p/{beta}")
    charges = {c.debtor_id: c for c in await portal.rows(PaymentCharge)}
    debtors = {d.external_id: d.id for d in await portal.rows(db.Debtor)}
    assert charges[debtors["acme"]].txid in acme_page
    assert charges[debtors["beta"]].txid not in acme_page
    pdf = (await portal.http.get(f"/p/{acme}/termo.pdf")).content
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(BytesIO(pdf)).pages)
    assert charges[debtors["acme"]].txid in text and charges[debtors["beta"]].txid not in text
    for secret in BETA_SECRETS:
        assert secret not in text
    # A claim made with Acme's link is Acme's.
    await portal.http.post(f"/p/{acme}/paid", data={"form": form_field(acme_page)})
    assert [c.debtor_id for c in await portal.rows(PaymentClaim)] == [debtors["acme"]]
