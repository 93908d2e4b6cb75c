"""Punctuation checks on a rendered message: what a careful writer would not send.

Warnings, not errors: a template that trips one still renders, but its text reads badly on
a phone ("a proposta é:Pagamento"). The shipped templates pass every check in every locale
and channel (tests/rendering/test_text_quality.py); the template admin shows the same
warnings in its preview.

- a space (or a line break) after a colon, full stop, comma, semicolon, "!" or "?" that
  ends a word, except inside numbers ("08:00", "1.234,56"), addresses and links;
- no two spaces in a row inside a line;
- a list item ("- ", "• ", "1) ", "1. ") starts its own line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Links, e-mail addresses, domain names and Telegram commands are not prose.
_NOT_PROSE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[\w-]+(?:\.[\w-]+)*\.(?:com|br|net|org|io|gov)(?:\.br)?\b(?:/\S*)?"
    r"|(?<!\S)/\w+"
    r"|\S{25,}"  # a code to copy (PIX copia e cola, boleto line, token)
)
# A punctuation mark right after a letter (or closing bracket/quote) and right before a letter.
_NO_SPACE_AFTER = re.compile(r"(?<=[^\W\d_)\]\"'”’])([:.,;!?])(?=[^\W_])")
_DOUBLE_SPACE = re.compile(r"(?<=\S) {2,}(?=\S)")
# A list marker in the middle of a line, after the end of a sentence or of another item.
_INLINE_ITEM = re.compile(r"(?<=[.:;!?)]) +(?:[-•]|\d{1,2}[).]) +(?=\S)")


@dataclass(frozen=True)
class TextWarning:
    code: str
    message: str


def punctuation_warnings(text: str) -> list[TextWarning]:
    """Every punctuation warning of ``text`` (a rendered message), each kind once."""
    prose = _NOT_PROSE.sub("0", text)  # a neutral stand-in: neither a letter nor a space
    warnings: list[TextWarning] = []
    missing = [_excerpt(prose, m.start()) for m in _NO_SPACE_AFTER.finditer(prose)]
    if missing:
        warnings.append(TextWarning(
            "no_space_after_punctuation",
            "a space or a line break is missing after punctuation: " + "; ".join(missing[:3])))
    doubled = [_excerpt(prose, m.start()) for m in _DOUBLE_SPACE.finditer(prose)]
    if doubled:
        warnings.append(TextWarning("double_space", "two spaces in a row: " + "; ".join(doubled[:3])))
    inline = [_excerpt(prose, m.start()) for m in _INLINE_ITEM.finditer(prose)]
    if inline:
        warnings.append(TextWarning(
            "list_item_inline", "a list item does not start its own line: " + "; ".join(inline[:3])))
    return warnings


def _excerpt(text: str, at: int, width: int = 14) -> str:
    start, end = max(at - width, 0), min(at + width, len(text))
    return "“" + " ".join(text[start:end].split()) + "”"
