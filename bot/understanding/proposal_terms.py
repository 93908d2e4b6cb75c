"""A debtor's counter-proposal read from one chat message.

Each value found by the other parsers gets a role from the words next to it; a value
with no recognisable role is left out rather than guessed.

- Installment amount: after "Nx de", "N parcelas de", "parcelas de", "N payments of",
  or before "por mes", "a month", "cada", "each" ("consigo 4x de 3 mil" -> 3000).
- Down payment: after "entrada de", "sinal de", "down payment of", or before
  "de entrada", "agora", "ja", "hoje", "now", "upfront", "down". A percentage in
  those places is ``down_payment_percent`` ("50% agora"); so is an unplaced percentage
  when the message talks about "o resto".
- Total: before "a vista", "pra quitar", "no total", "em 6x", "to settle", "in full"
  or after "quito com|por", "settle for", "total de"; also the only amount of a
  message with no count and no other placed amount ("posso pagar 2 mil").
- Discount: a percentage next to "desconto", "off", "discount", "abatimento".
- Installments, down payment included (as ``Proposal`` documents):
  - a count said after the down payment is the count of the REST and gets the down
    payment added: "entrada de 2 mil e o resto em 5x" -> 6; a count said before it is
    the whole plan: "6x com entrada de mil" -> 6;
  - a down payment with "o resto"/"the rest" and no count is two payments: "pago 50%
    agora e o resto em 30 dias" -> 2 (when the rest is due is not a ``Proposal`` field);
  - "a vista", "de uma vez", "in full" -> 1; a settlement ("quito", "pra quitar",
    "settle", "pay off") that names an amount or a discount and no count -> 1.
- First due date: the first date in the message that is not about the rest ("6x
  comecando dia 15" -> the 15th; in "50% agora e o resto em 30 dias" the 30 days are
  the rest's; so are dates after a count that follows the down payment: in "2 mil de
  entrada e 5x comecando mes que vem" the first payment is the undated entrada).
  "agora"/"now" is not a date, so paying now leaves ``first_due_date`` None: the caller
  reads None as "not stated", which for a down payment means today.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from bot.negotiation.proposals import Proposal
from bot.understanding.amounts import find_amounts, find_percents
from bot.understanding.dates import find_dates
from bot.understanding.installments import find_installments
from bot.understanding.normalize import normalize

__all__ = ["parse_proposal", "parse_proposal_answer"]

_CUR = r"(?:r\$|us\$|\$)?\s*"
_INSTALLMENT_BEFORE = re.compile(
    r"(?:\b[0-9]{1,3}\s*(?:x|vezes|parcelas?|prestacoes|pagamentos|installments|payments|"
    r"mensalidades|boletos)|\bparcelas?|\bprestac\w*|\bmensalidades?|\bpayments?|"
    r"\binstallments?)\s*(?:iguais|mensais|fixas|monthly|equal)?\s*(?:de|of|com|x|d)?\s*"
    + _CUR
    + r"$"
)
_INSTALLMENT_AFTER = re.compile(
    r"\s*(?:reais\s+|real\s+|contos?\s+|dollars?\s+|bucks\s+|dolares\s+)?"
    r"(?:por\s+mes|ao\s+mes|mensais|mensal|todo\s+mes|cada\s+mes|a\s+month|per\s+month|"
    r"each\s+month|monthly|every\s+month|cada|each|por\s+parcela|per\s+installment|"
    r"a\s+parcela|de\s+parcela|every\s+\w+|a\s+cada\s+\w+|por\s+semana|a\s+week|per\s+week|"
    r"weekly|semanal)\b"
)
_DOWN_BEFORE = re.compile(
    r"\b(?:entrada|sinal|down\s*payment|upfront|adiantado)\s*(?:de|of|com)?\s*" + _CUR + r"$"
)
_DOWN_AFTER = re.compile(
    r"\s*(?:reais\s+|real\s+|dollars?\s+|bucks\s+)?(?:de\s+entrada|de\s+sinal|agora|ja\b|"
    r"hoje|hj|na\s+hora|de\s+cara|now|upfront|down|today|right\s+away|adiantado|"
    r"as\s+(?:a\s+)?down\s*payment)"
)
_TOTAL_BEFORE = re.compile(
    r"\b(?:total\s+de|no\s+total|quit\w*\s+(?:com|por|pagando)|settle\s+(?:for|with)|"
    r"pay\s+off\s+with|fech\w*\s+(?:em|por|com)|acordo\s+de|tudo\s+por|a\s+vista\s+por|"
    r"proposta\s+de|ofere\w*|offer)\s*"
    + _CUR
    + r"$"
)
_TOTAL_AFTER = re.compile(
    r"\s*(?:reais\s+|real\s+|dollars?\s+|bucks\s+)?(?:no\s+total|total|a\s*vista|avista|"
    r"pra\s+quitar|para\s+quitar|e\s+quito|pra\s+fechar|to\s+settle|in\s+full|to\s+pay\s+off|"
    r"de\s+uma\s+vez|em\s+[0-9]+\s*(?:x|vezes|parcelas)|in\s+[0-9]+\s+(?:installments|payments)|"
    r"parcelad|dividid)"
)
_DISCOUNT_AFTER = re.compile(r"\s*(?:de\s+)?(?:desconto|desc\b|abatimento|off\b|discount)")
_DISCOUNT_BEFORE = re.compile(r"\b(?:desconto|desc|discount|abatimento)\s*(?:de|of)?\s*$")
_REST = re.compile(
    r"\b(?:o\s+resto|resto|o\s+restante|restante|saldo|the\s+rest|remaining|remainder|"
    r"balance|(?:e|and)\s+(?:a\s+outra\s+)?metade|(?:the\s+)?other\s+half|(?:e|and)\s+mais|"
    r"and\s+another)\b"
)
_DOWN_CUE = re.compile(
    r"\b(?:entrada|sinal|down\s*payment|upfront|agora|now|de\s+cara|na\s+hora|hoje|hj|today)\b"
)
_DOWN_WORD = re.compile(r"\b(?:entrada|sinal|down\s*payment)\b")
# Between the two numbers of a bare "4 de 3000" / "4 of 3,000" / "4 x 3000".
_PAIR_JOIN = re.compile(r"\s*(?:de|of|x)\s*" + _CUR + r"$")
_SETTLEMENT = re.compile(r"\b(?:quit\w*|liquid\w*|settle\w*|pay\s+(?:it\s+)?off|payoff)\b")


def _role_amounts(plain: str, locale: str, text: str) -> dict[str, Decimal]:
    roles: dict[str, Decimal] = {}
    unplaced: list[Decimal] = []
    for amount in find_amounts(text, locale):
        before = plain[max(0, amount.start - 40) : amount.start]
        for role, placed in (
            ("installment_amount", bool(_INSTALLMENT_BEFORE.search(before))),
            ("down_payment", bool(_DOWN_BEFORE.search(before))),
            ("total", bool(_TOTAL_BEFORE.search(before))),
            ("installment_amount", bool(_INSTALLMENT_AFTER.match(plain, amount.end))),
            ("down_payment", bool(_DOWN_AFTER.match(plain, amount.end))),
            ("total", bool(_TOTAL_AFTER.match(plain, amount.end))),
        ):
            if placed:
                roles.setdefault(role, amount.value)
                break
        else:
            unplaced.append(amount.value)
    if unplaced and not roles:
        roles["unplaced"] = unplaced[0]
    return roles


def _role_percents(plain: str, locale: str, text: str, *, has_rest: bool) -> dict[str, Decimal]:
    roles: dict[str, Decimal] = {}
    for percent in find_percents(text, locale):
        before = plain[max(0, percent.start - 30) : percent.start]
        if _DISCOUNT_AFTER.match(plain, percent.end) or _DISCOUNT_BEFORE.search(before):
            roles.setdefault("discount_percent", percent.value)
        elif (
            _DOWN_AFTER.match(plain, percent.end)
            or _DOWN_BEFORE.search(before)
            or (has_rest and "down_payment_percent" not in roles)
        ):
            roles.setdefault("down_payment_percent", percent.value)
    return roles


def parse_proposal(text: str, today: date, locale: str = "pt-BR") -> Proposal:
    """Terms the debtor proposed in ``text``; fields the text does not state stay None."""
    normalized = normalize(text, locale)
    plain, counting = normalized.plain, normalized.counting
    rest = _REST.search(counting)
    amounts = _role_amounts(plain, locale, text)
    percents = _role_percents(plain, locale, text, has_rest=rest is not None)
    counts = find_installments(text, locale)
    settlement = _SETTLEMENT.search(counting) is not None

    down_payment = amounts.get("down_payment")
    total = amounts.get("total")
    unplaced = amounts.get("unplaced")
    if unplaced is not None and rest is not None and down_payment is None:
        # "pago 1000 amanha e o resto dia 10": a first payment before the rest.
        down_payment, unplaced = unplaced, None
    if unplaced is not None and not counts:
        total = unplaced
    if down_payment is not None and settlement and rest is None and not counts:
        # "pago 8 mil hoje pra quitar": the whole settlement is paid now.
        total, down_payment = down_payment, None
    has_down = (
        down_payment is not None
        or "down_payment_percent" in percents
        or (rest is not None and _DOWN_WORD.search(counting) is not None)
    )

    installments: int | None = None
    rest_start = rest.start() if rest is not None else None
    if counts:
        installments = counts[0].count
        down_cue = _DOWN_CUE.search(counting)
        if has_down and down_cue is not None and counts[0].start > down_cue.start():
            installments += 1
            rest_start = min(rest_start or counts[0].start, counts[0].start)
    elif has_down and rest is not None:
        installments = 2
    elif settlement and (total is not None or "discount_percent" in percents):
        installments = 1

    dates = [
        d for d in find_dates(text, today, locale) if rest_start is None or d.start < rest_start
    ]
    return Proposal(
        installments=installments,
        installment_amount=amounts.get("installment_amount"),
        down_payment=down_payment,
        down_payment_percent=percents.get("down_payment_percent"),
        total=total,
        discount_percent=percents.get("discount_percent"),
        first_due_date=dates[0].value if dates else None,
    )


def parse_proposal_answer(text: str, today: date, locale: str = "pt-BR") -> Proposal:
    """Terms in the debtor's reply to "how many installments, and how much each?".

    As :func:`parse_proposal`, except that when it finds neither a count nor an
    installment amount, a bare pair of numbers "N de X" / "N of X" / "N x X" (N a whole
    number from 1 to 99 written in digits, X a larger amount) reads as N installments of
    X: "4 de 3000" -> 4 x 3000.00. Out of that context the pair is too ambiguous to guess.
    """
    proposal = parse_proposal(text, today, locale)
    if proposal.installments is not None or proposal.installment_amount is not None:
        return proposal
    plain = normalize(text, locale).plain
    found = find_amounts(text, locale)
    for count, amount in zip(found, found[1:], strict=False):
        written = plain[count.start : count.end]
        if (
            written.isdigit()
            and 1 <= count.value <= 99
            and amount.value > count.value
            and _PAIR_JOIN.match(plain[count.end : amount.start])
        ):
            return proposal.model_copy(update={
                "installments": int(count.value),
                "installment_amount": amount.value,
                "total": None if proposal.total in (count.value, amount.value) else proposal.total,
            })
    return proposal
