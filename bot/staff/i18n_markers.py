"""``N_``: marks a string for ``make messages`` without translating it yet (gettext_noop)."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the usual gettext name
    return message
