"""Every template the service layer can reply with exists in both locales and renders."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def referenced_templates() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names.update(re.findall(r'Reply\(\s*"([a-z_]+)"', source))
        names.update(re.findall(r'Button\("([a-z_]+)"', source))
        for pair in re.findall(r'template = "([a-z_]+)" if [^\n]* else "([a-z_]+)"', source):
            names.update(pair)
    return names


def test_templates_exist_in_both_locales() -> None:
    names = referenced_templates()
    assert len(names) > 25
    for locale in ("pt-BR", "en"):
        present = {p.stem for p in (ROOT / "templates" / locale).glob("*.j2")}
        assert names <= present, f"{locale} lacks {sorted(names - present)}"
    pt = {p.stem for p in (ROOT / "templates" / "pt-BR").glob("*.j2")}
    en = {p.stem for p in (ROOT / "templates" / "en").glob("*.j2")}
    assert pt == en
