"""The second request in one message ("quanto eu devo e dá pra parcelar?").

The NLU gives each message one intent. Debtors often ask two things at once: what they owe
*and* whether they can split it, the balance *and* the PIX key. :func:`second_request` finds,
from the text alone, another request of a small closed set besides the one the NLU chose,
so the bot answers both (``bot/services/negotiation/second_request.py``).

Deliberately conservative: only five requests combine (the debt details, a full payment,
a discount, installments, the payment method); a negated phrase ("nao quero parcelar",
"sem desconto", "not in installments") is not a request; a message makes at most one offer,
so a second negotiation request next to a first one is ignored. Pure: no I/O.
"""

from __future__ import annotations

import re
from enum import StrEnum

from bot.understanding.normalize import normalize

__all__ = ["Request", "answer_order", "requests_in", "second_request"]


class Request(StrEnum):
    """The requests that combine, named after their intents (the intent names in dialogs/domain.yml)."""

    DEBT_DETAILS = "ask_debt_details"
    PAY_IN_FULL = "pay_in_full"
    DISCOUNT = "request_discount"
    INSTALLMENTS = "request_installments"
    PAYMENT_METHOD = "ask_payment_method"


# The order the answers are given in: what is owed, then the offer, then how to pay.
_ORDER = (Request.DEBT_DETAILS, Request.DISCOUNT, Request.INSTALLMENTS, Request.PAY_IN_FULL,
          Request.PAYMENT_METHOD)
_NEGOTIATION = frozenset({Request.PAY_IN_FULL, Request.DISCOUNT, Request.INSTALLMENTS})

_OWE = r"(?:devo|devemos|deve|devendo|debito|divida|saldo|pendente|em aberto|aberto|vencid[oa]s?)"
_DOC = r"(?:nota|notas|nf|nfs|fatura|faturas|boleto|boletos|titulo|titulos|duplicata|duplicatas)"
_PATTERNS: dict[Request, tuple[str, ...]] = {
    Request.DEBT_DETAILS: (
        rf"\bquanto (?:\w+ ){{0,2}}{_OWE}",
        r"\bquanto (?:ta|esta|e|fica|da) (?:o |a )?(?:total|valor|divida|debito|saldo|conta)",
        r"\bquanto (?:ta|esta|da|fica|e) (?:dando|hoje|hj|atualizado)\b",
        r"\b(?:qual|quais|me (?:fala|passa|diz|manda)|ver) (?:e |eh )?(?:o |a |os |as )?"
        r"(?:valor|total|saldo|montante|debito|divida)\b(?! (?:pra|para|p) )",
        rf"\b(?:qual|quais) (?:sao )?(?:as |os |a |o )?{_DOC}\b",
        r"\b(?:de que|do que) (?:e|eh|se trata)\b|\breferente a que\b|\bsobre o que\b",
        r"\b(?:cobranca|valor|divida|debito|mensagem|msg) de que\b",
        rf"\b(?:q|que|qual) (?:{_DOC}|cobranca|divida|debito) (?:e|eh) (?:essa|esse)\b",
        r"\bhow much (?:\w+ ){0,2}(?:owe|owed|due|outstanding)\b",
        r"\bwhat(?:'s| is| do| does)? (?:\w+ ){0,2}(?:owe|balance|total|amount|outstanding)\b",
        r"\b(?:amount|balance) (?:owed|due|outstanding)\b",
        r"\bwhich (?:invoices|bills)\b",
        r"\bwhat is this (?:charge|for)\b",
    ),
    Request.DISCOUNT: (
        r"\bdesconto\b",
        r"\b(?:tira|tirar|tirou|abate|abater|isenta|isentar|perdoa|perdoar) (?:\w+ ){0,2}"
        r"(?:juros|multa|encargos)\b",
        r"\bdiscount\b",
        r"\b(?:waive|drop|remove) (?:\w+ ){0,2}(?:interest|fees|penalty|penalties)\b",
    ),
    Request.INSTALLMENTS: (
        r"\bparcel(?:ar|ado|ada|amento|o|amos|e|a em|as)\b",
        r"\bdividir\b|\bdivide\b|\bdividido\b",
        r"\bem \d+ ?(?:x|vezes)\b",
        r"\b\d+ ?x\b",
        r"\bquantas (?:vezes|parcelas)\b",
        r"\b(?:in|do|into|by|with) (?:\d+ |monthly )?installments\b",
        r"\binstallment plan\b",
        r"\bsplit (?:it|this|that|the (?:payment|amount|balance|bill|debt))\b",
        r"\bpay (?:it )?in (?:parts|\d+ (?:parts|payments))\b",
    ),
    Request.PAY_IN_FULL: (
        r"\ba vista\b",
        r"\bquitar\b|\bquito\b|\bquitamos\b",
        r"\bpagar tudo\b|\bpago tudo\b|\bpagamos tudo\b",
        r"\b(?:pay|paying) (?:it |this |the whole thing |everything )?(?:all )?(?:at once|in full)\b",
        r"\bpay (?:it )?all\b",
    ),
    Request.PAYMENT_METHOD: (
        r"\bchave (?:do )?pix\b",
        r"\b(?:manda|mande|mandar|envia|envie|enviar|passa|passe|passar|me da|gera|gerar)(?: me)? "
        r"(?:o |a |um |uma )?(?:pix|boleto|link|qr|codigo|linha digitavel|copia e cola|dados)",
        r"\blink (?:pra|para|de) (?:pagar|pagamento)\b",
        r"\bcomo (?:eu |a gente )?(?:pago|pagamos|faco pra pagar|faco para pagar)\b",
        r"\bcomo (?:posso|vou|devo|consigo|podemos) pagar\b(?! (?:parcel|em \d|a vista|tudo))",
        r"\bonde (?:eu )?(?:pago|pagar)\b",
        r"\bpix key\b|\bpayment (?:link|details)\b",
        r"\bhow (?:do|can) (?:i|we) pay\b",
        r"\bsend (?:me |us )?(?:the |a )?(?:link|boleto|code|pix|qr)",
    ),
}
_COMPILED = {request: tuple(re.compile(p) for p in patterns)
             for request, patterns in _PATTERNS.items()}
# A negotiation request up to two words after one of these, in the same clause, is refused
# ("nao quero parcelar", "sem desconto"), not asked for; "nao, da pra parcelar?" asks.
_NEGATION = re.compile(r"\b(?:nao|nem|sem|not|don't|dont|never|without)(?: [\w']+){0,2} $")
_CLAUSE_MARK = re.compile(r"\s*([,.;:!?]+)\s*")
_OTHER_MARK = re.compile(r"[^\w$#%',.;:!?\s]")


def _mentions(text: str, request: Request) -> bool:
    for pattern in _COMPILED[request]:
        for match in pattern.finditer(text):
            if request not in _NEGOTIATION or not _NEGATION.search(text[:match.start()]):
                return True
    return False


def _canonical(text: str) -> str:
    """Normalised text; clause marks as separate tokens, other symbols as spaces."""
    folded = _OTHER_MARK.sub(" ", normalize(text).plain)
    return re.sub(r"\s+", " ", _CLAUSE_MARK.sub(r" \1 ", folded)).strip() + " "


def requests_in(text: str) -> tuple[Request, ...]:
    """Every combining request the text makes, in :func:`answer_order`."""
    canonical = _canonical(text)
    return tuple(request for request in _ORDER if _mentions(canonical, request))


def answer_order(requests: tuple[Request, ...] | list[Request]) -> list[Request]:
    """The requests sorted in the order the bot answers them."""
    return sorted(requests, key=_ORDER.index)


def second_request(text: str, intent: str) -> Request | None:
    """Another request the text makes besides ``intent`` (the NLU's), or ``None``.

    ``None`` too when ``intent`` is not one of the combining requests: a promise, a claim,
    a complaint... are answered alone.
    """
    try:
        primary = Request(intent)
    except ValueError:
        return None
    for request in requests_in(text):
        if request == primary:
            continue
        if primary in _NEGOTIATION and request in _NEGOTIATION:
            continue
        return request
    return None
