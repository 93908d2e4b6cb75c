"""The approved WhatsApp templates an agent may send once the 24-hour window is closed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.negotiation.balance import days_past_due
from bot.rendering.renderer import TemplateRenderer, TemplateRenderError, UnknownTemplate
from bot.services.agent_desk.views import ApprovedTemplates, DebtLine, TemplateChoice
from bot.services.negotiation.debtor_file import DebtorFile


def template_variables(file: DebtorFile, debts: Sequence[DebtLine]) -> dict[str, Any]:
    """The debtor's data for an approved template (the names the cadence's templates use)."""
    return {
        **file.common,
        "creditor_tax_id": file.policy.creditor.tax_id,
        "pix_key": file.policy.creditor.pix_key,
        "today": file.today,
        "balance": file.balance,
        "total": file.balance,
        "debts": [{"external_id": d.external_id, "description": d.description or "",
                   "amount": d.amount, "due_date": d.due_date, "balance": d.balance,
                   "days_past_due": days_past_due(d.due_date, file.today)}
                  for d in debts if d.status in ("open", "disputed")],
    }

def template_choices(file: DebtorFile, approved: ApprovedTemplates, debts: Sequence[DebtLine],
                     renderer: TemplateRenderer, locale: str) -> list[TemplateChoice]:
    """The approved templates configured for the debtor's locale (``locale``), rendered for a
    preview."""
    variables = template_variables(file, debts)
    choices = []
    for name in sorted(approved):
        by_locale = approved[name]
        template = by_locale.get(locale)
        if template is None:
            continue
        error = ""
        try:
            preview = renderer.render(name, locale, variables, channel="whatsapp")
        except (TemplateRenderError, UnknownTemplate) as exc:
            preview, error = "", f"cannot be rendered with this debtor's data ({exc})"
        missing = [v for v in template.variables if v not in variables]
        if missing and not error:
            error = "its Content variables are not available here: " + ", ".join(missing)
        # The outbox resolves the Content SID by the contact's locale (else the first one).
        resolved = by_locale.get(file.contact.locale or "") or next(iter(by_locale.values()))
        if resolved.sid != template.sid and not error:
            error = (f"the contact has no locale of its own: the outbox would send "
                     f"{resolved.sid} instead")
        choices.append(TemplateChoice(name, template.sid, template.variables, preview, error))
    return choices
