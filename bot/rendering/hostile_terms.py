"""The reviewed list of hostile wording (``hostile_terms.yaml``) and the check against it.

Loaded once, on first use; an entry whose pattern does not compile or whose own example
it does not catch stops the load (a bad edit fails loudly, in the tests first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.rendering.text_folding import fold

Kind = Literal["threat", "insult", "shaming", "ultimatum"]
KIND_LABELS = {"threat": "ameaça / threat", "insult": "insulto / insult",
               "shaming": "exposição / shaming", "ultimatum": "ultimato / ultimatum"}


class HostileTermEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    locale: Literal["pt-BR", "en"]
    kind: Kind
    label: str = Field(min_length=1)
    pattern: str = Field(min_length=1)
    why: str = Field(min_length=1)
    example: str = Field(min_length=1)


class HostileTermsFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    terms: tuple[HostileTermEntry, ...]


@dataclass(frozen=True)
class HostileTerm:
    entry: HostileTermEntry
    regex: re.Pattern[str]

    def found_in(self, folded: str) -> bool:
        return self.regex.search(folded) is not None

    def describe(self) -> str:
        return f"“{self.entry.label}” ({KIND_LABELS[self.entry.kind]}: {self.entry.why})"


def parse_terms(text: str) -> tuple[HostileTerm, ...]:
    """Validate and compile a hostile terms file; raises ``ValueError`` naming the entry."""
    data = HostileTermsFile.model_validate(yaml.safe_load(text))
    terms: list[HostileTerm] = []
    seen: set[str] = set()
    for entry in data.terms:
        if entry.id in seen:
            raise ValueError(f"hostile term {entry.id!r} is listed twice")
        seen.add(entry.id)
        try:
            regex = re.compile(entry.pattern)
        except re.error as exc:
            raise ValueError(f"hostile term {entry.id!r}: pattern does not compile: {exc}") from exc
        term = HostileTerm(entry, regex)
        if not term.found_in(fold(entry.example)):
            raise ValueError(f"hostile term {entry.id!r}: its example is not caught")
        terms.append(term)
    return tuple(terms)


@cache
def hostile_terms() -> tuple[HostileTerm, ...]:
    text = resources.files("bot.rendering").joinpath("hostile_terms.yaml").read_text(encoding="utf-8")
    return parse_terms(text)


def hostile_terms_in(text: str, terms: tuple[HostileTerm, ...] | None = None) -> list[HostileTerm]:
    """The terms whose pattern occurs in ``text`` (accents, case and spacing ignored)."""
    folded = fold(text)
    return [term for term in (hostile_terms() if terms is None else terms) if term.found_in(folded)]
