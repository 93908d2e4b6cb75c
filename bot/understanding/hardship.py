"""What a hardship statement is about, and whether a message names a policy's handoff word.

Pure: reads the normalised text (:mod:`bot.understanding.normalize`), so accents and case
never matter ("Recuperação Judicial" and "recuperacao judicial" are the same words).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.understanding.normalize import normalize

__all__ = ["HARDSHIP_CATEGORIES", "hardship_category", "mentions_any"]

# First match wins: the legal situations before the everyday cash squeeze.
_CATEGORY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("judicial_recovery", re.compile(
        r"\brecuperacao (?:judicial|extrajudicial)\b|\bem rj\b|\bjudicial recovery\b|"
        r"\bchapter 11\b|\breorganizacao judicial\b")),
    ("bankruptcy", re.compile(
        r"\bfalencia\b|\bfalid[ao]s?\b|\bfaliu\b|\bfalimos\b|\bbankrupt(?:cy)?\b|"
        r"\binsolven(?:t|cy|cia|te)\b|\bfechando as portas\b|\bclosing down\b")),
    ("cash_flow", re.compile(
        r"\bcaixa\b|\bapertad[ao]s?\b|\bsem (?:dinheiro|grana|verba)\b|\bdinheiro\b|"
        r"\bfaturamento\b|\bvendas?\b|\bliquidez\b|\bnao da (?:pra|para) pagar\b|"
        r"\bcash\b|\btight\b|\bmoney\b|\bsales\b|\brevenue\b|\bfunds\b|\bcan ?not pay\b|"
        r"\bcan'?t pay\b|\bcan'?t afford\b")),
)
HARDSHIP_CATEGORIES: tuple[str, ...] = tuple(name for name, _ in _CATEGORY_PATTERNS) + ("other",)


def hardship_category(text: str) -> str:
    """A coarse reason: ``judicial_recovery``, ``bankruptcy``, ``cash_flow`` or ``other``."""
    folded = normalize(text).plain
    for name, pattern in _CATEGORY_PATTERNS:
        if pattern.search(folded):
            return name
    return "other"


def mentions_any(text: str, keywords: Iterable[str]) -> str | None:
    """The first of ``keywords`` that ``text`` contains as whole words (accents and case
    ignored), or ``None``."""
    folded = f" {normalize(text).plain} "
    for keyword in keywords:
        wanted = normalize(keyword).plain
        if wanted and re.search(rf"(?<![a-z0-9]){re.escape(wanted)}(?![a-z0-9])", folded):
            return keyword
    return None
