"""Which installment a message asks about: "manda o pix da 2ª parcela", "the 3rd one".

Pure. ``installment_number`` reads the counting form of :mod:`bot.understanding.normalize`
(where "segunda parcela" is already "2 # parcela" and "second" is "2 nd"); "próxima",
"next" and a message without a number all mean the next open installment (``None``).
"""

from __future__ import annotations

import re

from bot.understanding.normalize import normalize

__all__ = ["MAX_INSTALLMENT_NUMBER", "asks_for_payment_details", "installment_number"]

MAX_INSTALLMENT_NUMBER = 120

_NOUNS = r"(?:parcelas?|prestacao|prestacoes|boletos?|pix|installments?|payments?|one|codes?)"
# "2 #" (2ª, 2º, segunda), "2 nd" (2nd, second), "2 a parcela" / "2 o boleto".
_MARKED = re.compile(r"\b(\d{1,3}) (?:#|st|nd|rd|th)(?![a-z0-9])")
_LETTER = re.compile(rf"\b(\d{{1,3}}) (?:a|o)(?: {_NOUNS}\b| ?[?!.]*$)")
# "parcela 2", "parcela n 2", "installment #3", "installment number 3".
_AFTER_NOUN = re.compile(
    r"\b(?:parcela|prestacao|boleto|installment|payment)s?"
    r" (?:(?:n #|n|no|numero|number|nr|#) )?(\d{1,3})(?![\d,.]*\s*(?:k|%|reais|x)\b)(?![\d,.])")


def installment_number(text: str, locale: str = "pt-BR") -> int | None:
    """The installment number ``text`` names (1..``MAX_INSTALLMENT_NUMBER``), else ``None``
    (the next open installment)."""
    counting = normalize(text, locale).counting
    for pattern in (_MARKED, _LETTER, _AFTER_NOUN):
        match = pattern.search(counting)
        if match is not None:
            number = int(match.group(1))
            if 1 <= number <= MAX_INSTALLMENT_NUMBER:
                return number
    return None


# The means of payment a debtor asks for: "o pix", "o boleto", "the code", "o qr", "link".
_PAYMENT_MEANS = re.compile(
    r"\b(?:pix|boleto|codigo|code|qr|qrcode|link|copia e cola|chave|linha digitavel)\b")


def asks_for_payment_details(text: str, locale: str = "pt-BR") -> bool:
    """Whether ``text`` asks for the means to pay (a PIX code, a boleto, a link), whatever
    installment it names: "manda o pix da 2ª parcela" is such a request even when it reads
    like one about installments."""
    return _PAYMENT_MEANS.search(normalize(text, locale).plain) is not None
