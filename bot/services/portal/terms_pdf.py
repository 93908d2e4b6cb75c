"""The "termo de acordo" as a PDF (reportlab), in pt-BR or English.

It states the parties (creditor and debtor, with their CNPJ), the debts the agreement
covers, the schedule (each installment's amount and due date, and its PIX charge where one
was issued) and the acceptance record (when, in the debtor's time zone; through which link,
by its id; from which address). Money and dates are formatted for the locale.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_percent
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from bot.rendering.renderer import format_money
from bot.services.portal.views import TermsDocument

LABELS: dict[str, dict[str, str]] = {
    "pt-BR": {
        "title": "Termo de acordo", "number": "Acordo nº", "parties": "Partes",
        "creditor": "Credor", "debtor": "Devedor", "cnpj": "CNPJ", "debts": "Dívidas abrangidas",
        "invoice": "Fatura", "description": "Descrição", "due": "Vencimento", "amount": "Valor",
        "terms": "Condições", "total": "Total do acordo", "discount": "Desconto",
        "full_payment": "Pagamento à vista", "installments": "Parcelado",
        "schedule": "Parcelas", "installment": "Parcela", "date": "Data",
        "pix": "PIX (txid)", "charged": "Valor cobrado", "not_issued": "a emitir",
        "acceptance": "Registro do aceite", "accepted_at": "Aceito em",
        "accepted_via": "Aceito por", "via_portal": "página do devedor (portal)",
        "via_other": "conversa", "link": "Identificador do link", "address": "Endereço IP",
        "unknown": "não registrado",
        "note": "Este termo reproduz o acordo registrado. O PIX é sempre pago a {name} "
                "(CNPJ {tax_id}).",
    },
    "en": {
        "title": "Agreement terms", "number": "Agreement no.", "parties": "Parties",
        "creditor": "Creditor", "debtor": "Debtor", "cnpj": "CNPJ (tax id)",
        "debts": "Debts covered", "invoice": "Invoice", "description": "Description",
        "due": "Due", "amount": "Amount", "terms": "Terms", "total": "Agreement total",
        "discount": "Discount", "full_payment": "Payment in full", "installments": "Installments",
        "schedule": "Installments", "installment": "Installment", "date": "Date",
        "pix": "PIX (txid)", "charged": "Amount charged", "not_issued": "not issued yet",
        "acceptance": "Acceptance record", "accepted_at": "Accepted on",
        "accepted_via": "Accepted through", "via_portal": "the debtor's page (portal)",
        "via_other": "conversation", "link": "Link id", "address": "IP address",
        "unknown": "not recorded",
        "note": "These terms reproduce the recorded agreement. PIX payments always go to "
                "{name} (CNPJ {tax_id}).",
    },
}
DATES = {"pt-BR": "dd/MM/yyyy", "en": "MMM d, yyyy"}
MOMENTS = {"pt-BR": "dd/MM/yyyy HH:mm:ss", "en": "MMM d, yyyy h:mm:ss a"}


class TermsFormat:
    """Money, dates and percentages of one locale and time zone."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = locale if locale in LABELS else "pt-BR"
        self.babel = self.locale.replace("-", "_")
        self.zone = ZoneInfo(timezone)

    def money(self, value: Decimal) -> str:
        return format_money(value, "BRL", self.locale)

    def day(self, value: date) -> str:
        return format_date(value, DATES[self.locale], locale=self.babel)

    def moment(self, value: datetime) -> str:
        local = value.astimezone(self.zone)
        text = format_datetime(local, MOMENTS[self.locale], locale=self.babel)
        return f"{text} ({self.zone.key}, UTC{local.strftime('%z')[:3]}:{local.strftime('%z')[3:]})"

    def percent(self, value: Decimal) -> str:
        return str(format_percent(value / 100, "#,##0.##%", locale=self.babel))


def _table(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"), ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _schedule_rows(doc: TermsDocument, fmt: TermsFormat, t: dict[str, str]) -> list[list[str]]:
    rows = [[t["installment"], t["date"], t["pix"], t["charged"], t["amount"]]]
    for line in doc.schedule:
        rows.append([f"{line.number}/{len(doc.schedule)}", fmt.day(line.due_date),
                     line.txid or t["not_issued"],
                     fmt.money(line.charged) if line.charged is not None else "—",
                     fmt.money(line.amount)])
    return rows


def render_terms_pdf(doc: TermsDocument, locale: str) -> bytes:
    """The agreement's terms as a PDF document in ``locale`` (pt-BR or en)."""
    fmt = TermsFormat(locale, doc.timezone)
    t = LABELS[fmt.locale]
    styles = getSampleStyleSheet()

    def para(text: str, style: str = "BodyText") -> Paragraph:
        return Paragraph(escape(text), styles[style])

    kind = t["full_payment"] if doc.kind == "full_payment" else t["installments"]
    via = t["via_portal"] if doc.created_by == "portal" else t["via_other"]
    story: list[Any] = [
        para(f"{t['title']} — {t['number']} {doc.agreement_id}", "Title"),
        para(t["parties"], "Heading2"),
        para(f"{t['creditor']}: {doc.creditor_name} — {t['cnpj']} {doc.creditor_tax_id}"),
        para(f"{t['debtor']}: {doc.debtor_name} — {t['cnpj']} {doc.debtor_tax_id}"),
        para(t["debts"], "Heading2"),
        _table([[t["invoice"], t["description"], t["due"], t["amount"]]]
               + [[d.reference, para(d.description, "BodyText"), fmt.day(d.due_date),
                   fmt.money(d.amount)] for d in doc.debts], [32 * mm, 78 * mm, 30 * mm, 30 * mm]),
        para(t["terms"], "Heading2"),
        para(f"{kind}: {t['total']} {fmt.money(doc.total)}"
             + (f" — {t['discount']} {fmt.percent(doc.discount_percent)}"
                if doc.discount_percent > 0 else "")),
        para(t["schedule"], "Heading3"),
        _table(_schedule_rows(doc, fmt, t), [22 * mm, 28 * mm, 62 * mm, 30 * mm, 28 * mm]),
        para(t["acceptance"], "Heading2"),
        para(f"{t['accepted_at']}: {fmt.moment(doc.accepted_at)}"),
        para(f"{t['accepted_via']}: {via}"),
        para(f"{t['link']}: {doc.link_id or t['unknown']}"),
        para(f"{t['address']}: {doc.address or t['unknown']}"),
        Spacer(1, 6 * mm),
        para(t["note"].format(name=doc.creditor_name, tax_id=doc.creditor_tax_id)),
    ]
    buffer = BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title=f"{t['title']} {doc.agreement_id}",
                      author=doc.creditor_name, leftMargin=18 * mm, rightMargin=18 * mm,
                      topMargin=16 * mm, bottomMargin=16 * mm, invariant=True).build(story)
    return buffer.getvalue()
