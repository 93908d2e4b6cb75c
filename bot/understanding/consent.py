"""What counts as the debtor's consent: a clear "yes", an opt-out request, an offer's button.

The NLU's intent and confidence are necessary but not enough. A model trained on short
chat phrases also says ``affirm`` (0.85) for text it has no features for: combining
accents alone, a zero-width space, an unknown emoji. So a state change on the debtor's
word also needs the words themselves:

- :func:`is_clear_affirmation`: intent ``affirm`` at or above ``AFFIRM_MIN_CONFIDENCE``,
  and the text has a word of at least two letters (or a thumbs-up/OK emoji), is short,
  is not a question and says no "não"/"not".
- :func:`is_opt_out_keyword` (the whole message is a reviewed keyword: the channels act on
  it before any NLU) and :func:`mentions_opt_out` (a reviewed keyword or phrase occurs as
  whole words). An ``opt_out`` intent without one needs ``OPT_OUT_MIN_CONFIDENCE``.
- :func:`button_payload`: a message that starts with ``/`` is a button (or typed like
  one); accept buttons carry the offer's reference, ``/affirm{"offer_id": "…"}``.

Pure: standard library only.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

AFFIRM_MIN_CONFIDENCE = 0.8
"""Below this NLU confidence an affirmation never creates an agreement."""
OPT_OUT_MIN_CONFIDENCE = 0.9
"""An ``opt_out`` intent without an opt-out keyword needs this confidence."""
MAX_AFFIRMATION_WORDS = 20
MAX_AFFIRMATION_CHARS = 200

OFFER_ID = "offer_id"

# Whole-message keywords: acted on before the NLU, whatever it would say.
OPT_OUT_KEYWORDS = frozenset({
    "stop", "parar", "pare", "sair", "cancelar", "descadastrar", "descadastre", "unsubscribe",
})
# Keywords and phrases that make an ``opt_out`` intent certain when they occur as words.
OPT_OUT_PHRASES = frozenset({
    "stop", "parar", "pare", "parem", "para de mandar", "para de me mandar", "sair",
    "descadastrar", "descadastre", "descadastra",
    "unsubscribe", "nao quero mais receber", "nao me mande mais", "nao mande mais",
    "nao me mandem mais", "nao mandem mais", "remover meu numero", "remova meu numero",
    "tirar meu numero", "tira meu numero", "stop sending", "stop messaging", "stop contacting",
    "do not contact", "dont contact", "opt out",
})
NEGATIONS = frozenset({
    "nao", "n", "nunca", "jamais", "nem", "not", "never", "nope", "dont", "cannot", "cant",
    "wont", "nah",
})
# Emoji that say "yes" on their own (skin tones and variation selectors are ignored).
AFFIRM_EMOJI = frozenset({"👍", "👌", "✅", "✔", "🤝", "🆗", "☑"})

_WORD = re.compile(r"[^\W\d_]{2,}")
_TOKEN = re.compile(r"\w+")
_BUTTON = re.compile(r"^/(?P<intent>[A-Za-z_]+)(?P<entities>\{.*\})?$", re.DOTALL)


def fold(text: str) -> str:
    """Lower case, compatibility forms, no accents, no invisible format characters."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(ch for ch in decomposed
                   if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf")
    return " ".join(kept.replace("’", "'").replace("'", "").split())


def _words(folded: str) -> list[str]:
    return _TOKEN.findall(folded)


def has_negation(text: str) -> bool:
    return any(word in NEGATIONS for word in _words(fold(text)))


def _has_affirm_emoji(text: str) -> bool:
    return any(ch in AFFIRM_EMOJI for ch in text)


def is_clear_affirmation(text: str, intent: str, confidence: float) -> bool:
    """A typed "yes" that may create an agreement (see the module docstring)."""
    if intent != "affirm" or not confidence >= AFFIRM_MIN_CONFIDENCE:
        return False
    if len(text) > MAX_AFFIRMATION_CHARS:
        return False
    folded = fold(text)
    if not (_WORD.search(folded) or _has_affirm_emoji(text)):
        return False
    if len(_words(folded)) > MAX_AFFIRMATION_WORDS or folded.rstrip(" .!").endswith("?"):
        return False
    return not has_negation(text)


def is_opt_out_keyword(text: str) -> bool:
    """The whole message is one of the keywords (``STOP``, ``Parar!``, ``sair.``...)."""
    return " ".join(_words(fold(text))) in OPT_OUT_KEYWORDS


def mentions_opt_out(text: str) -> bool:
    """A reviewed opt-out keyword or phrase occurs in ``text`` as whole words."""
    words = f" {' '.join(_words(fold(text)))} "
    return any(f" {phrase} " in words for phrase in OPT_OUT_PHRASES)


def is_clear_opt_out(text: str, intent: str, confidence: float) -> bool:
    """Stop contacting: a keyword, or an ``opt_out`` intent the NLU is sure of."""
    if is_opt_out_keyword(text):
        return True
    if intent != "opt_out":
        return False
    return mentions_opt_out(text) or confidence >= OPT_OUT_MIN_CONFIDENCE


@dataclass(frozen=True, slots=True)
class ButtonPayload:
    """``/intent{"offer_id": "…"}``: ``offer_id`` is ``None`` for a bare ``/intent``."""

    intent: str
    offer_id: str | None = None


def button_payload(text: str) -> ButtonPayload | None:
    """The button a message stands for, or ``None`` for a typed message."""
    match = _BUTTON.match(text.strip())
    if match is None:
        return None if not text.strip().startswith("/") else ButtonPayload("")
    entities = match.group("entities")
    offer_id: str | None = None
    if entities:
        try:
            parsed = json.loads(entities)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and isinstance(parsed.get(OFFER_ID), str):
            offer_id = parsed[OFFER_ID]
    return ButtonPayload(match.group("intent"), offer_id)


def offer_payload(intent: str, offer_id: str) -> str:
    """The payload of a button that answers one offer (``/affirm{"offer_id":"…"}``)."""
    return "/" + intent + json.dumps({OFFER_ID: offer_id}, separators=(",", ":"))
