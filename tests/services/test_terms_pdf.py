"""The terms PDF's layout on awkward content: markup characters in names, a long description,
many installments over more than one page, and an agreement with no acceptance record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest

from bot.services.portal.terms_pdf import render_terms_pdf
from bot.services.portal.views import CoveredDebt, TermsDocument, TermsLine

pypdf = pytest.importorskip("pypdf")


def document(**changes: object) -> TermsDocument:
    lines = [TermsLine(n, date(2027, 1, 5) + timedelta(days=30 * n), Decimal("1000.01"))
             for n in range(1, 41)]
    fields: dict[str, object] = dict(
        creditor_name="Açúcar & <Cia> Ltda", creditor_tax_id="11.222.333/0001-81",
        debtor_name='Padaria "Sol" & Lua', debtor_tax_id="11.444.777/0001-61", locale="pt-BR",
        timezone="America/Manaus", agreement_id=7, kind="installments",
        total=Decimal("40000.40"), discount_percent=Decimal("0"), created_by="bot",
        debts=[CoveredDebt("NF-1", "farinha " * 80, date(2026, 10, 1), Decimal("39000.00"))],
        schedule=lines, accepted_at=datetime(2026, 12, 1, 15, 30, tzinfo=UTC))
    fields.update(changes)
    return TermsDocument(**fields)  # type: ignore[arg-type]


def text_of(content: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(BytesIO(content))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages).replace("\u00a0", " ")


def test_markup_long_text_and_many_installments() -> None:
    pages, text = text_of(render_terms_pdf(document(), "pt-BR"))
    assert pages >= 2
    assert "Açúcar & <Cia> Ltda" in text and 'Padaria "Sol" & Lua' in text
    assert "40/40" in text and text.count("R$ 1.000,01") == 40
    # Accepted at 15:30 UTC: 11:30 in Manaus (UTC-4); no portal record: said so.
    assert "26/12/2026" not in text and "01/12/2026 11:30:00 (America/Manaus, UTC-04:00)" in text
    assert "Aceito por: conversa" in text and "Identificador do link: não registrado" in text


def test_english_and_an_unknown_locale() -> None:
    _, english = text_of(render_terms_pdf(document(), "en"))
    assert "Agreement terms" in english and "R$1,000.01" in english and "Dec 1, 2026" in english
    _, fallback = text_of(render_terms_pdf(document(), "xx"))
    assert "Termo de acordo" in fallback
