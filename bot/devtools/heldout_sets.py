"""The held-out NLU sets in dialogs/tests/heldout/ and their independence from the training data.

File names carry the set and the language: ``pt.yml``/``en.yml`` (the first sets),
``blind_*`` (written after the data was last tuned), ``hard_*`` (the hard cases: the weak
intents and two-request messages, with their own stricter targets). A two-request example
(``hard_two_*``) is filed under one of its requests and names the other in its metadata
(``second``); the NLU may return either.

A held-out text must not be in the training data: :func:`training_overlap` compares
normalised forms (lower case, no accents, punctuation and emojis dropped, spaces collapsed)
and, for the hard set, near-duplicates too (the same words give or take one, any number
matching any number).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DIALOGS = ROOT / "dialogs"
HELDOUT = DIALOGS / "tests" / "heldout"
TRAINING = DIALOGS / "data" / "nlu"
HARD_PREFIX = "hard"
_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")
_NOT_WORD = re.compile(r"[^\w\s]")
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    language: str
    blind: bool
    hard: bool = False
    second: str | None = None  # the other request of a two-request message

    def accepts(self, predicted: str) -> bool:
        return predicted in (self.intent, self.second)


def plain(text: str) -> str:
    return _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), text).strip()


def normalized(text: str) -> str:
    """Lower case, no accents, no punctuation or emojis, single spaces."""
    folded = unicodedata.normalize("NFKD", plain(text).lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def _block_examples(block: dict[str, object]) -> list[tuple[str, str | None]]:
    """(text, second) pairs of one intent block, in either of Rasa's example formats."""
    examples = block.get("examples")
    if isinstance(examples, str):
        return [(plain(line.strip()[2:]), None) for line in examples.splitlines()
                if line.strip().startswith("- ")]
    rows = []
    for item in examples if isinstance(examples, list) else []:
        metadata = item.get("metadata") or {}
        rows.append((plain(str(item["text"])), metadata.get("second")))
    return rows


def load_examples(folder: Path = HELDOUT) -> list[Example]:
    examples = []
    for path in sorted(folder.glob("*.yml")):
        language = "en" if path.stem.endswith("en") else "pt"
        for block in yaml.safe_load(path.read_text(encoding="utf-8"))["nlu"]:
            for text, second in _block_examples(block):
                examples.append(Example(text, block["intent"], language,
                                        blind=path.stem.startswith("blind"),
                                        hard=path.stem.startswith(HARD_PREFIX), second=second))
    return examples


def training_texts(folder: Path = TRAINING) -> list[str]:
    texts = []
    for path in sorted(folder.glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" in block:
                texts += [text for text, _ in _block_examples(block)]
    return texts


def _words(form: str) -> set[str]:
    """The words of a normalised text, every number the same word ("TED 88213" ~ "TED 5510")."""
    return set(_NUMBER.sub("0", form).split())


def _near(a: set[str], b: set[str]) -> bool:
    """The same words give or take one (for texts of four words or more)."""
    return min(len(a), len(b)) >= 4 and len(a ^ b) <= 1


def training_overlap(examples: list[Example], training: list[str]) -> list[str]:
    """Held-out texts found in the training data: exact after normalising (every set),
    or a near-duplicate (the hard set). Empty when the sets are independent."""
    seen = {normalized(text) for text in training}
    word_sets = [_words(text) for text in seen]
    found = []
    for example in examples:
        form = normalized(example.text)
        if form in seen:
            found.append(f"{example.text!r} (in training)")
        elif example.hard and any(_near(_words(form), words) for words in word_sets):
            found.append(f"{example.text!r} (near-duplicate of a training text)")
    return found
