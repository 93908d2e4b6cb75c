"""Audit kinds live in one enum, AuditKind: no second audit-kind enum in bot/."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"


def audit_enums(source: str) -> list[str]:
    """Names of Enum/StrEnum classes in a module whose name says they are audit kinds."""
    return [
        node.name for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ClassDef) and "audit" in node.name.lower()
        and any(isinstance(base, ast.Name) and base.id.endswith("Enum") for base in node.bases)
    ]


def test_the_check_finds_an_audit_enum() -> None:
    assert audit_enums("class StaffAuditKind(StrEnum):\n    A = 'x'\nclass Other(StrEnum): ...\n") == [
        "StaffAuditKind"]


def test_there_is_one_audit_kind_enum() -> None:
    found = [f"{path.relative_to(BOT)}:{name}" for path in sorted(BOT.rglob("*.py"))
             for name in audit_enums(path.read_text(encoding="utf-8"))]
    assert found == ["services/audit_kinds.py:AuditKind"]
