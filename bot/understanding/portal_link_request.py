"""Whether a message asks for the debtor's portal link ("me manda o link", "send me the link").

No NLU intent covers it; the conversation service reads it bot-side before the dialogue
engine (``bot/services/conversation.py``) and answers with a new link. Rules, on the text
lower-cased with accents removed:

- **A request for a link or a page**: a verb of sending or wanting ("manda", "envia",
  "passa", "quero", "send", "give", "need", "can I have"…) or a question about one ("tem",
  "qual é", "cadê", "onde", "is there", "where is", "what's the") with "link", "endereço",
  "página", "portal", "site" / "link", "url", "page", "portal", "website"; or seeing it
  "on a page" ("dá pra ver numa página?", "can I see it on a page", "pelo site").
- **Not about a payment**: PIX, boleto, "pagamento", "cartão", "copia e cola", QR,
  "payment", "card", "bank slip"… make it a payment question ("manda o link de pagamento",
  "o link do pix não abre"), answered by the payment method, unless the portal is named
  ("o link do portal"). The NLU data trains bare "me manda o link" as a payment question;
  read here first, it gets the portal link, whose page has the PIX too.
- **Not refused nor doubted**: "não precisa mandar link", "don't send links", "que link é
  esse?", "is this link safe?" are not requests.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["asks_for_portal_link"]

_THING = r"(?:link|links|linque|url|endereco|pagina|page|webpage|portal|site|website)"
_ASK = (r"(?:manda|mande|mandar|mandem|envia|envie|enviar|reenvia|reenvie|passa|passe|passar|"
        r"quero|queria|gostaria|preciso|tem|teria|qual|cade|onde|"
        r"send|resend|give|share|text|want|need|get|where|whats|what s|what is|is there|do you have|"
        r"can i have|could i have)")
_REQUEST = re.compile(rf"\b{_ASK}\b(?:\W+\w+){{0,5}}?\W+{_THING}\b")
_ON_A_PAGE = re.compile(
    r"\b(?:ver|vejo|acessar|acesso|consultar|see|view|check|access|look at)\b(?:\W+\w+){0,4}?\W+"
    r"(?:numa|na|em uma|em|pela|pelo|no|num|on|in|at|online)\W+(?:a\W+|the\W+|uma\W+)?"
    r"(?:pagina|site|portal|internet|navegador|page|website|browser|web)\b")
_PAYMENT = re.compile(r"\b(?:pix|boleto|boletos|pagamento|pagar|copia e cola|qr|qrcode|codigo|"
                      r"chave|cartao|credito|transferencia|payment|pay|card|bank slip|barcode)\b")
_PORTAL = re.compile(r"\bportal\b")
_REFUSED = re.compile(
    r"\b(?:nao|nem|sem)\b(?:\W+\w+){0,2}?\W+(?:precisa|quero|manda|mande|envia|envie|link)\b"
    r"|\b(?:dont|don t|do not|no need|stop|no more)\b(?:\W+\w+){0,2}?\W+(?:send|need|want|links?)\b"
    r"|\bno links?\b")
_DOUBT = re.compile(r"\b(?:que link e esse|o que e esse|esse link e|este link e|link e (?:seguro|"
                    r"confiavel|golpe|verdadeiro)|what (?:is|s) (?:this|that) link|is (?:this|that) link|"
                    r"is (?:this|it) (?:safe|legit|real|a scam))\b")


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", plain.replace("'", " ")).strip()


def asks_for_portal_link(text: str) -> bool:
    """Whether ``text`` asks for the portal link (see the module's rules)."""
    folded = _folded(text[:500])
    if not folded or _REFUSED.search(folded) or _DOUBT.search(folded):
        return False
    if _PAYMENT.search(folded) and not _PORTAL.search(folded):
        return False
    return bool(_REQUEST.search(folded) or _ON_A_PAGE.search(folded))
