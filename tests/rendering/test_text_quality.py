"""Every shipped template reads well: punctuation, spacing, lists, SMS length.

Each template is rendered through the real renderer with the template admin's sample values
and with variants that reach its other branches (each offer reason, a full payment with a
discount, no contact name, an agreement, several charges…), per locale and channel.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.channels.sms import count_segments, for_sms
from bot.config import Settings
from bot.rendering.renderer import TemplateRenderer, TemplateValueError
from bot.rendering.template_rules import channels_of, sample_data
from bot.rendering.text_quality import punctuation_warnings

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 12, 7)
SMS_MAX_SEGMENTS = Settings.model_fields["sms_max_segments"].default
# The instructions for several installments at once (a PIX code each) do not fit an SMS; the
# channel cuts them. Sending one installment's payment at a time is the way out.
SEVERAL_CHARGES = {"three pix charges", "boleto"}
NO_DATE = "no date"
PIX_CODE = "00020126580014BR.GOV.BCB.PIX0136chave5204000053039865802BR6304ABCD"
REASONS = ("installments_above_max", "installment_below_min", "first_due_too_late",
           "down_payment_below_min", "discount_above_max", "amount_below_balance")


def _charges(count: int, method: str) -> list[dict[str, Any]]:
    return [{"number": n, "amount": Decimal("2040.00"), "due_date": TODAY + timedelta(days=30 * n),
             "method": method, "payload": PIX_CODE,
             "qr_url": f"https://acordo.example/pix/{n}.png" if method == "pix" else ""}
            for n in range(1, count + 1)]


def variants() -> list[tuple[str, dict[str, Any]]]:
    base = sample_data(TODAY)
    full = {**base["offer"], "kind": "full_payment", "count": 1, "total": Decimal("5700.00"),
            "discount_percent": Decimal("5"), "discount_amount": Decimal("300.00"),
            "installments": base["offer"]["installments"][:1]}
    found: list[tuple[str, dict[str, Any]]] = [("sample", {})]
    found += [(f"reason={r}", {"reason": r}) for r in
              ("proposal_within_limits", "concession", "dialogue_unavailable", "proposal_not_understood")]
    found += [(f"reasons={r}", {"reasons": [r]}) for r in REASONS]
    found += [
        ("full payment", {"offer": full}),
        ("full payment, first offer", {"offer": full, "reason": "first_offer"}),
        ("full payment, within limits", {"offer": full, "reason": "proposal_within_limits"}),
        ("full payment, concession", {"offer": full, "reason": "concession"}),
        ("no contact name", {"contact_name": ""}),
        ("no portal link", {"portal_link": ""}),  # ACORDO_LINK_SECRET unset
        ("agreed", {"agreed": True, "offer_pending": False}),
        ("nothing pending", {"agreed": False, "offer_pending": False}),
        ("no debt", {"has_debt": False, "debts": [], "balance": Decimal("0")}),
        ("last installment, overdue", {"number": 3, "grace_days": 5}),
        ("a single installment", {"number": 1, "count": 1}),
        ("hardship: judicial recovery", {"category": "judicial_recovery"}),
        ("hardship: bankruptcy", {"category": "bankruptcy"}),
        ("one pix charge of three", {"charges": _charges(1, "pix"), "count": 3}),
        ("last pix charge of three", {"charges": _charges(3, "pix")[2:], "count": 3}),
        ("no hours or key", {"hours": [], "pix_key": ""}),
        (NO_DATE, {"date": None}),  # only the templates that test "if date" take this one
        ("one pix charge", {"charges": _charges(1, "pix")}),
        ("three pix charges", {"charges": _charges(3, "pix")}),
        ("boleto", {"charges": _charges(2, "boleto")}),
        ("link", {"charges": _charges(1, "link")}),
        ("claim without details", {"asks_details": True, "claim": {
            **base["claim"], "amount": None, "paid_on": None, "reference": "", "bank": "",
            "attachments": 0}}),
        ("claim with an amount only", {"claim": {**base["claim"], "reference": "", "bank": "",
                                                 "paid_on": None}}),
        ("claim with a bank only", {"claim": {**base["claim"], "reference": "", "amount": None,
                                              "paid_on": None}}),
        ("claim rejected without a reason", {"reason": ""}),
        ("claim rejected with a reason", {"reason": "o valor não aparece no extrato."}),
        ("claim confirmed, nothing left", {"balance": Decimal("0.00")}),
        ("one installment left", {"agreement": {
            **base["agreement"], "remaining": base["agreement"]["remaining"][:1],
            "next": base["agreement"]["remaining"][0]}}),
        ("agreement up to date", {"agreement": {**base["agreement"], "remaining": [], "next": None,
                                                "left": Decimal("0.00")}}),
    ]
    base |= {"charges": _charges(1, "pix"), "number": 2, "count": 3, "amount": Decimal("2040.00"),
             "due_date": TODAY + timedelta(days=3), "grace_days": 3}
    return [(label, {**base, **change}) for label, change in found]


def shipped() -> list[tuple[str, str]]:
    files = sorted((ROOT / "templates").rglob("*.j2"))
    return [(path.parent.name, path.name.split(".")[0]) for path in files]


def test_every_locale_ships_templates() -> None:
    assert len(shipped()) > 100
    assert {locale for locale, _ in shipped()} == {"pt-BR", "en"}


@pytest.mark.parametrize(("locale", "name"), shipped(), ids=lambda v: str(v))
def test_shipped_template_reads_well_in_every_channel(locale: str, name: str) -> None:
    renderer = TemplateRenderer(ROOT / "templates")
    problems: dict[str, list[str]] = {}
    for channel in channels_of(name):
        for label, variables in variants():
            if channel == "sms" and name != "portal_link_sent":
                # the régua sends no portal link by SMS (bot/cadence/queue.py); the bot
                # sends one when asked for it (portal_link_sent)
                variables = {**variables, "portal_link": ""}
            try:
                text = renderer.render(name, locale, variables, channel=channel)
            except TemplateValueError:
                if label == NO_DATE:
                    continue
                raise
            found = [f"{w.code}: {w.message}" for w in punctuation_warnings(text)]
            if channel == "sms" and not (name == "payment_instructions" and label in SEVERAL_CHARGES):
                segments = count_segments(for_sms(text)).segments
                if segments > SMS_MAX_SEGMENTS:
                    found.append(f"sms: {segments} segments, at most {SMS_MAX_SEGMENTS}")
            for problem in found:
                problems.setdefault(problem, []).append(f"{channel}/{label}")
    assert problems == {}


@pytest.mark.parametrize("text", [
    "Para quitar tudo de uma vez, a proposta é:Pagamento à vista",
    "Posso registrar assim:3 parcelas",  # a digit after a colon that ends a word
    "the offer is:A single payment",
    "Obrigado.Até logo",
    "Oi,tudo bem?",
    "Valor:  R$ 10,00",
    "Parcelas: 1) R$ 10,00 até 10/12 2) R$ 10,00 até 10/01",
    "Opções: - pagar à vista - parcelar",
])
def test_badly_punctuated_text_is_warned(text: str) -> None:
    assert punctuation_warnings(text), text


@pytest.mark.parametrize("text", [
    "Pagamento à vista de R$ 6.120,00, até 10/12/2026.",
    "Atendimento das 08:00 às 20:00.",
    "1,5% ao mês; desconto de 2.50%.",
    "Veja em https://acordo.example/p/v1.abc.def?x=1 ou escreva para cobranca+ab.c@acme.com.br.",
    "Site: www.acordo.com.br. Envie /start para ligar.",
    "Como pagar cada parcela:\n1ª parcela: R$ 2.040,00 até 10/01/2027\n2ª parcela: R$ 2.040,00",
    "Olá, Ana! Tudo bem? Sim: pode pagar.\n- à vista\n- parcelado",
    "Distribuidora Exemplo Ltda. (CNPJ 11.222.333/0001-81)",
])
def test_well_punctuated_text_is_not_warned(text: str) -> None:
    assert punctuation_warnings(text) == []


def test_template_check_warns_but_does_not_refuse() -> None:
    from bot.policies.models import TemplateRules
    from bot.rendering.template_rules import check_template

    result = check_template("Olá, {{ contact_name }}!A proposta é:{{ creditor_name }}  aguarda.",
                            name="greet", locale="pt-BR", rules=[TemplateRules()], today=TODAY)
    assert result.ok
    assert {w.code for w in result.warnings} == {"no_space_after_punctuation", "double_space"}
    clean = check_template("Olá, {{ contact_name }}! Aqui é a {{ creditor_name }}.",
                           name="greet", locale="pt-BR", rules=[TemplateRules()], today=TODAY)
    assert clean.ok and clean.warnings == []
