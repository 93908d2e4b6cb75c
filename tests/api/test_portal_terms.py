"""The "termo de acordo" PDF of the portal page (/p/{token}/termo.pdf): the parties, the debts,
the schedule with its PIX charges and the acceptance record (time in the debtor's zone, the
link's id and the accepting address; never the token), in pt-BR and English; none before an
agreement; never another debtor's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path

import pytest
from babel.dates import format_date

from bot.storage import models as db
from bot.storage.payment_models import PaymentCharge
from bot.storage.portal_link_models import StoredPortalLink as PortalLinkRow
from tests.support.portal import ACME, BETA, Portal, accept_plan, open_portal

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async for opened in open_portal(tmp_path):
        yield opened


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0]+", " ", text)


async def test_terms_state_parties_debts_schedule_charges_and_acceptance(portal: Portal) -> None:
    token = portal.token()
    _, accepted = await accept_plan(portal, token, index=2)  # three installments
    assert accepted.status_code == 303
    await portal.http.get(f"/p/{token}")  # the page issues the first installment's PIX
    page = (await portal.http.get(f"/p/{token}")).text
    assert f'href="/p/{token}/termo.pdf?lang=pt-BR"' in page and "@media print" in page
    response = await portal.http.get(f"/p/{token}/termo.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    agreement = (await portal.rows(db.Agreement))[0]
    installments = await portal.rows(db.Installment)
    charges = await portal.rows(PaymentCharge)
    assert "Termo de acordo" in text and f"Acordo nº {agreement.id}" in text
    assert "Distribuidora Exemplo Ltda" in text and "11.222.333/0001-81" in text
    assert "Acme Comércio Ltda" in text and "11.444.777/0001-61" in text
    assert "NF-acme" in text and "R$ 7.350,00" in text and "06/11/2026" in text
    assert len(installments) == 3
    for item in installments:
        day = format_date(item.due_date, "dd/MM/yyyy", locale="pt_BR")
        amount = f"{item.amount:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
        row = rf"{item.number}/3\n{day}\n[^\n]+\n[^\n]+\nR\$ {re.escape(amount)}\n"
        assert re.search(row, text), text
    assert len(charges) == 1 and charges[0].txid in text and "a emitir" in text
    # Accepted at 13:00 UTC on 26/11/2026 (the fixed clock): 10:00 in São Paulo.
    assert "Aceito em: 26/11/2026 10:00:00 (America/Sao_Paulo, UTC-03:00)" in text
    event = next(e for e in await portal.rows(db.AuditEvent) if e.kind == "agreement_created")
    acceptance = event.data["acceptance"]
    [link] = [row for row in await portal.rows(PortalLinkRow)]
    assert acceptance == {"ip": "127.0.0.1", "link_id": str(link.id)}
    assert f"Identificador do link: {acceptance['link_id']}" in text
    assert "Endereço IP: 127.0.0.1" in text and "página do devedor" in text
    assert token not in text and token.encode() not in response.content
    for other in ("Beta", "NF-beta", "1.234,56", "joe@", "rita@"):
        assert other not in text


async def test_terms_in_english_with_the_locale_s_money(portal: Portal) -> None:
    token = portal.token(BETA)
    await accept_plan(portal, token, index=0)
    english = pdf_text((await portal.http.get(f"/p/{token}/termo.pdf")).content)
    assert "Agreement terms" in english and "Beta Comércio Ltda" in english
    assert "NF-beta" in english and "R$1,234.56" in english and "Acceptance record" in english
    assert "Nov 6, 2026" in english and "Acme" not in english
    portuguese = pdf_text((await portal.http.get(f"/p/{token}/termo.pdf?lang=pt-BR")).content)
    assert "Termo de acordo" in portuguese and "R$ 1.234,56" in portuguese


async def test_no_terms_before_an_agreement_nor_for_a_bad_link(portal: Portal) -> None:
    acme, beta = portal.token(ACME), portal.token(BETA)
    none_yet = await portal.http.get(f"/p/{acme}/termo.pdf")
    assert none_yet.status_code == 404 and "Ainda não há acordo" in none_yet.text
    assert "No agreement yet" in none_yet.text and "Acme" not in none_yet.text
    await accept_plan(portal, beta, index=0)
    # Beta's agreement exists; Acme's link still has none to show.
    assert (await portal.http.get(f"/p/{acme}/termo.pdf")).status_code == 404
    bad = await portal.http.get(f"/p/{acme[:-2]}xx/termo.pdf")
    assert bad.status_code == 404 and "Beta" not in bad.text and "%PDF" not in bad.text
