"""``split_text``: long texts cut for providers that refuse them, at the best break that fits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.base import part_key, split_text, utf16_len

LENGTHS: dict[str, Callable[[str], int]] = {"characters": len, "utf-16": utf16_len}


@pytest.mark.parametrize(("text", "limit", "parts"), [
    ("", 10, []),                                                  # nothing to send
    ("   \n ", 2, []),
    ("curto", 10, ["curto"]),                                      # within the limit: whole
    ("  dez exatos \n", 14, ["  dez exatos \n"]),                  # ... whitespace and all
    ("um dois\n\ntrês quatro", 12, ["um dois", "três quatro"]),    # between paragraphs
    ("aaa bbb\n\nccc ddd eee\nfff", 10, ["aaa bbb", "ccc ddd", "eee\nfff"]),
    ("linha um\nlinha dois", 12, ["linha um", "linha dois"]),      # between lines
    ("um dois três", 8, ["um dois", "três"]),                      # between words
    ("a\n\nb c d e f g", 9, ["a", "b c d e f", "g"]),              # the paragraph first
    ("abcdefghij", 4, ["abcd", "efgh", "ij"]),                     # a word too long: cut hard
    ("ok abcdefghij", 4, ["ok", "abcd", "efgh", "ij"]),
])
def test_cuts_at_the_best_break_that_fits(text: str, limit: int, parts: list[str]) -> None:
    assert split_text(text, limit) == parts


def test_counts_as_the_platform_does() -> None:
    text = "😀" * 3 + " fim"  # each emoji: 1 character, 2 UTF-16 code units
    assert split_text(text, 7) == [text]
    assert split_text(text, 7, utf16_len) == ["😀😀😀", "fim"]
    assert split_text("😀😀😀", 3, utf16_len) == ["😀", "😀", "😀"]  # never half an emoji


def test_a_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        split_text("texto", 0)


def test_part_keys_keep_the_first_and_number_the_rest() -> None:
    assert [part_key("reply:9", n) for n in (1, 2, 3)] == ["reply:9", "reply:9:part2", "reply:9:part3"]
    assert part_key(None, 2) is None


def paragraph_text() -> st.SearchStrategy[str]:
    """Paragraphs of lines of words, emoji and accents included, with irregular whitespace."""
    word = st.text(st.sampled_from("abcçãé😀0123456789"), min_size=1, max_size=14)
    space = st.sampled_from([" ", "  ", "\t"])
    line = st.lists(st.tuples(word, space), min_size=1, max_size=8).map(
        lambda pairs: "".join(w + s for w, s in pairs).rstrip())
    paragraph = st.lists(line, min_size=1, max_size=4).map("\n".join)
    return st.lists(paragraph, min_size=1, max_size=8).map("\n\n".join)


def non_whitespace(text: str) -> str:
    return "".join(text.split())


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(paragraph_text(), st.text(max_size=300)), limit=st.integers(2, 80),
       counted=st.sampled_from(list(LENGTHS)))
def test_parts_fit_and_lose_nothing(text: str, limit: int, counted: str) -> None:
    length = LENGTHS[counted]
    parts = split_text(text, limit, length)
    assert all(length(part) <= limit and part.strip() for part in parts)
    assert "".join(non_whitespace(part) for part in parts) == non_whitespace(text)
    if length(text) <= limit and text.strip():
        assert parts == [text]


@settings(max_examples=300, deadline=None)
@given(text=paragraph_text(), limit=st.integers(28, 120), counted=st.sampled_from(list(LENGTHS)))
def test_words_and_paragraphs_that_fit_are_not_cut(text: str, limit: int, counted: str) -> None:
    length = LENGTHS[counted]
    parts = split_text(text, limit, length)
    # every word fits (at most 14 characters, 28 UTF-16 units): the words arrive whole, in order
    assert [w for part in parts for w in part.split()] == text.split()
    for paragraph in text.split("\n\n"):
        if length(paragraph) <= limit:
            assert any(paragraph in part for part in parts)


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text("abcde", min_size=1, max_size=10), min_size=1, max_size=60),
       limit=st.integers(10, 60))
def test_parts_are_as_few_as_possible(words: list[str], limit: int) -> None:
    """Greedy: a part ends only where the next word would not fit in it."""
    parts = split_text(" ".join(words), limit)
    assert " ".join(parts) == " ".join(words)
    for first, second in zip(parts, parts[1:], strict=False):
        assert len(first + " " + second.split()[0]) > limit
