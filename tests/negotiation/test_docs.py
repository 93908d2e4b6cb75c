from __future__ import annotations

from pathlib import Path

from bot.negotiation.machine import OFFER_REASONS, to_mermaid
from bot.negotiation.proposals import REASON_CODES

DOC = Path(__file__).resolve().parents[2] / "docs" / "negotiation.md"


def test_docs_hold_the_current_state_diagram() -> None:
    assert f"```mermaid\n{to_mermaid()}```" in DOC.read_text(encoding="utf-8"), (
        "docs/negotiation.md is out of date: paste the output of to_mermaid() into it"
    )


def test_docs_list_every_reason_code() -> None:
    text = DOC.read_text(encoding="utf-8")
    for code in (*REASON_CODES, *OFFER_REASONS):
        assert f"`{code}`" in text, code
