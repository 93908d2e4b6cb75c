"""Chat text normalised once for the value parsers.

Debtors write "R$3mil", "6x", "dois mil e quinhentos", "sexta", "15d", "50 por cento".
Every parser in this package reads the same canonical form:

- lower case, accents removed (``amanhã`` -> ``amanha``), ordinal marks ``º``/``ª``
  kept as ``#`` (``dia 1º`` -> ``dia 1 #``);
- digits split from letters (``6x`` -> ``6 x``, ``R$3000`` -> ``r$ 3000``, ``10k`` -> ``10 k``);
- spelled-out percent words turned into ``%`` (``cinquenta por cento`` -> ``50 %``);
- "thousand" after a digit turned into ``k`` (``3 mil`` -> ``3 k``), because text2num
  would otherwise read "3 mil" as two numbers;
- spelled-out numbers turned into digits by text2num's ``alpha2digit``, in Portuguese
  and English (the locale's language first);
- Portuguese weekday names protected from being read as ordinals ("sexta" is Friday,
  not "6th"), except before nouns such as "parcela" or "via" ("segunda via").

Two variants exist: ``plain`` keeps the isolated small number words ("uma", "dois", "one")
as words, so an article is never an amount; ``counting`` converts them too, so
"duas parcelas" reads as "2 parcelas". Results are cached: one chat turn runs several
parsers over the same text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from text_to_num import alpha2digit

__all__ = ["NormalizedText", "language_order", "normalize"]

_ORDINAL_MARKS = str.maketrans({"º": " # ", "ª": " # ", "°": " # "})

# Anything that is neither printable text nor plain whitespace becomes a space.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")

_PERCENT_WORDS = re.compile(r"\b(?:por\s*cento|porcento|per\s*cent|percent|pct)\b")
_DIGIT_LETTER = re.compile(r"(?<=[0-9])(?=[a-z$#%])|(?<=[a-z$#%])(?=[0-9])")
_THOUSAND_AFTER_DIGIT = re.compile(r"(?<=[0-9])\s*(?:mil|thousand|grand)\b")
# "10 dez" is December 10, not "10 10" (alpha2digit would read "dez" as ten).
_DECEMBER_AFTER_DIGIT = re.compile(r"(?<=[0-9])\s*(?:de\s+)?dez\b\.?")
_MILLION_AFTER_DIGIT = re.compile(r"(?<=[0-9])\s*(?:milhao|milhoes|million|millions|mi)\b")

_WEEKDAY_ORDINALS = "segunda|terca|quarta|quinta|sexta"
# "segunda via", "quinta parcela", "terca parte": ordinals, not weekdays.
_ORDINAL_NOUNS = (
    r"via|vias|parcela|parcelas|prestacao|vez|opcao|proposta|tentativa|cobranca|fatura|"
    r"boleto|conta|mensagem|mensalidade|pessoa|parte|semana|ligacao|divida|renegociacao|"
    r"chance|negociacao|etapa|linha|casa|serie|ano|lugar"
)
_WEEKDAY_WORD = re.compile(
    rf"\b({_WEEKDAY_ORDINALS})(?:\s*-?\s*feira)?\b(?!\s+(?:{_ORDINAL_NOUNS})\b)"
)


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """Both canonical forms of one message (see the module docstring)."""

    plain: str
    counting: str


def language_order(locale: str) -> tuple[str, str]:
    """text2num languages to try, the locale's own first ("pt-BR" -> pt, en)."""
    return ("en", "pt") if locale.lower().startswith("en") else ("pt", "en")


def _fold(text: str) -> str:
    text = _CONTROL.sub(" ", text.lower().translate(_ORDINAL_MARKS))
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", folded)


def _prepare(text: str) -> str:
    text = _fold(text)
    text = _PERCENT_WORDS.sub(" % ", text)
    text = _WEEKDAY_WORD.sub(lambda m: f"{m.group(1)}-feira", text)
    text = _DIGIT_LETTER.sub(" ", text)
    text = _THOUSAND_AFTER_DIGIT.sub(" k", text)
    text = _DECEMBER_AFTER_DIGIT.sub(" de dezembro", text)
    return _MILLION_AFTER_DIGIT.sub(" kk", text)


def _spell_out(text: str, languages: tuple[str, str], threshold: int) -> str:
    for language in languages:
        text = alpha2digit(text, language, threshold=threshold)
    # alpha2digit may produce ordinals ("5ª parcela", "15th") and glued digits again.
    text = _fold(text)
    text = _DIGIT_LETTER.sub(" ", text)
    text = _THOUSAND_AFTER_DIGIT.sub(" k", text)
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=256)
def normalize(text: str, locale: str = "pt-BR") -> NormalizedText:
    """Canonical forms of ``text`` for the parsers; never raises on any ``str``."""
    languages = language_order(locale)
    prepared = _prepare(text)
    return NormalizedText(
        plain=_spell_out(prepared, languages, threshold=3),
        counting=_spell_out(prepared, languages, threshold=0),
    )
