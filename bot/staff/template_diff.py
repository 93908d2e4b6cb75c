"""Line diffs between two texts of a template (Python's difflib), for the version pages.

Each line comes back as data (kind, line numbers, text); the page escapes the text and marks
each change by a sign (+ / −) and a word for screen readers, not only by colour."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

SIGNS = {"same": " ", "added": "+", "removed": "−"}


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "added" or "removed"
    old: int | None  # its number in the text before, if it is there
    new: int | None  # its number in the text after, if it is there
    text: str

    @property
    def sign(self) -> str:
        return SIGNS[self.kind]


@dataclass(frozen=True)
class TextDiff:
    lines: tuple[DiffLine, ...]

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.kind == "added")

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.kind == "removed")

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def line_diff(before: str, after: str) -> TextDiff:
    """Every line of both texts, in order: unchanged, removed (from ``before``) or added."""
    old, new = before.splitlines(), after.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [DiffLine("same", i1 + k + 1, j1 + k + 1, old[i1 + k]) for k in range(i2 - i1)]
            continue
        lines += [DiffLine("removed", i + 1, None, old[i]) for i in range(i1, i2)]
        lines += [DiffLine("added", None, j + 1, new[j]) for j in range(j1, j2)]
    return TextDiff(tuple(lines))
