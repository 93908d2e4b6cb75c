"""Offers and agreements in words: ``full_payment`` with 2.50% off is "À vista com 2,5% de
desconto" (pt-BR), "Pay in full with a 2.5% discount" (en)."""

from __future__ import annotations

from decimal import Decimal

from babel.support import Translations

from bot.rendering.renderer import format_percent_number
from bot.staff.i18n_markers import N_

OFFER_KINDS = {"full_payment": N_("Pay in full"), "installments": N_("Installments")}


def describe_offer(kind: str, count: int, discount_percent: Decimal, translations: Translations,
                   locale: str) -> str:
    """The offer as staff say it: kind, number of payments, discount."""
    _ = translations.gettext
    discount = format_percent_number(discount_percent, locale) if discount_percent > 0 else ""
    if kind == "installments":
        payments = translations.ngettext("%(count)s payment", "%(count)s payments", count) % {
            "count": count}
        return _("%(payments)s with a %(discount)s discount") % {
            "payments": payments, "discount": discount} if discount else payments
    name = _(OFFER_KINDS.get(kind, kind))
    if discount:
        return _("%(offer)s with a %(discount)s discount") % {"offer": name, "discount": discount}
    return name
