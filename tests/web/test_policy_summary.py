"""/admin/policies reads as a summary per segment (rule, negotiation limits, régua steps with
the template's description) and the contact rules, in the reader's formats; the YAML files are
behind a <details> toggle."""

from __future__ import annotations

import re

from tests.web.conftest import Site


def segment(html: str, name: str) -> str:
    """The markup of one segment: up to the next segment or the contact rules."""
    start = html.index(f'data-segment="{name}"')
    ends = [html.find(marker, start + 1) for marker in ('data-segment="', '<h3>Regras', '<h3>Contact')]
    return html[start:min(end for end in ends if end > 0)]


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_the_demo_policy_reads_as_a_summary_in_portuguese(site: Site) -> None:
    async with site.signed_in("carla", lang="pt-BR") as http:
        page = await http.get("/admin/policies")
    assert page.status_code == 200
    early, late = text(segment(page.text, "early")), text(segment(page.text, "late"))
    assert "1. early — dias de atraso: até 30" in early
    assert "2. late — dias de atraso: 31 ou mais" in late
    assert "Maior desconto à vista 5%" in early and "Maior desconto à vista 10%" in late
    assert "Parcela mínima R$ 500,00" in early and "Parcela mínima R$ 300,00" in late
    assert "Máximo de parcelas 6" in early and "Entrada mínima 10%" in early
    assert "Primeiro vencimento em até 10 dias" in early and "Juros do parcelamento, ao mês 1,5%" in late
    assert "3 dias antes do vencimento reminder_upcoming Lembrete alguns dias antes do vencimento." in early
    assert "1 dia depois do vencimento overdue_first Primeiro lembrete depois do vencimento." in early
    assert "WhatsApp, SMS, Telegram, Chat web" in early
    assert "30 dias depois do vencimento overdue_offer" in late and "30 dias" not in early
    whole = text(page.text)
    assert "Horário de contato (America/Sao_Paulo) seg–sex 08:00–20:00; sáb 08:00–14:00" in whole
    assert "sem contato nos feriados nacionais do Brasil" in whole and "1 por dia, 3 em 7 dias" in whole
    toggle = r"<details class=\"card\">\s*<summary>Os arquivos de política \(YAML\)</summary>"
    assert re.search(toggle, page.text)
    assert "full_payment_discount_max_percent: 5" in page.text  # the raw YAML, behind the toggle


async def test_the_summary_in_english_uses_english_formats(site: Site) -> None:
    async with site.signed_in("carla", lang="en") as http:
        whole = text((await http.get("/admin/policies")).text)
    assert "1. early — days past due up to 30" in whole and "2. late — days past due of 31 or more" in whole
    assert "Smallest installment R$500.00" in whole and "Interest on installments, a month 1.5%" in whole
    assert "3 days before the due date reminder_upcoming Reminder a few days before the due date." in whole
    assert "Contact hours (America/Sao_Paulo) Mon–Fri 08:00–20:00; Sat 08:00–14:00" in whole
