"""The request guard's fast JSON check against the slow, obvious one it replaced: every
number parsed through a finiteness check and the whole document encoded back. Both must
refuse the same bodies with the same kind, and the fast one must return the same document."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.api.request_guard import BodyRefused, check_json


def reference(raw: bytes) -> tuple[str, Any]:
    """('ok', document) | ('syntax', None) | ('refused', kind)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "refused", "json_invalid"

    def constant(name: str) -> Any:
        raise BodyRefused(422, "json_invalid", name)

    def finite(text: str) -> float:
        value = float(text)
        if math.isinf(value):
            raise BodyRefused(422, "json_invalid", text)
        return value

    try:
        parsed = json.loads(text, parse_constant=constant, parse_float=finite)
    except RecursionError:
        return "refused", "json_invalid"
    except BodyRefused as refused:
        return "refused", refused.kind
    except ValueError:
        return "syntax", None
    try:
        json.dumps(parsed, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "refused", "string_unicode"
    return "ok", parsed


def fast(raw: bytes) -> tuple[str, Any]:
    try:
        parsed_ok, parsed = check_json(raw)
    except BodyRefused as refused:
        return "refused", refused.kind
    return ("ok", parsed) if parsed_ok else ("syntax", None)


# Numbers written the ways that matter: long digit runs, big and small exponents, both signs.
digits = st.text("0123456789", min_size=1, max_size=260)
numbers = st.builds(
    lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
    st.sampled_from(["", "-"]), digits,
    st.one_of(st.just(""), digits.map(lambda d: "." + d)),
    st.one_of(st.just(""), st.builds(lambda e, s, n: f"{e}{s}{n}", st.sampled_from("eE"),
                                     st.sampled_from(["", "+", "-"]),
                                     st.integers(0, 1200).map(str))),
)
escapes = st.sampled_from(["\\ud800", "\\uDBFF", "\\udc00", "\\uD83D\\uDE00", "\\u00e9", "\\\\ud800",
                           "\\uD800x", "a", "é", "\\n"])
strings = st.lists(escapes, max_size=4).map(lambda parts: '"' + "".join(parts) + '"')
scalars = st.one_of(numbers, strings, st.sampled_from(["NaN", "Infinity", "-Infinity", "true", "null"]))
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(strings, inner), max_size=4).map(
            lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")),
    max_leaves=8,
)


@settings(max_examples=600, deadline=None)
@given(documents)
def test_the_fast_check_agrees_with_the_reference(text: str) -> None:
    raw = text.encode("utf-8")
    expected, got = reference(raw), fast(raw)
    assert got[0] == expected[0], (text, got, expected)
    if expected[0] == "ok":
        assert json.dumps(got[1], sort_keys=True) == json.dumps(expected[1], sort_keys=True)
    else:
        assert got[1] == expected[1]


def test_the_edges_are_refused_like_the_reference() -> None:
    nines = "9" * 210
    for text in ("1e309", "-1E+400", f"{nines}e99", f"[{nines}.5e98]", "1" + "0" * 320, '"\\ud800"',
                 '{"a": [1, NaN]}', "[" * 100_000):
        assert fast(text.encode()) == reference(text.encode()), text
    assert fast(b"\xff{") == ("refused", "json_invalid")
    assert fast(b'{"x": "\\uD83D\\uDE00", "y": 1.5e300}')[0] == "ok"
