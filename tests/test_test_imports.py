"""No test module imports another test module: shared helpers live in tests/support/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_test_modules(source: str) -> list[str]:
    """The ``test_*`` modules a source imports (absolute or relative), by dotted name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found += [name for name in names if name.rsplit(".", 1)[-1].startswith("test_")]
    return sorted(set(found))


def test_the_check_sees_every_form_of_import() -> None:
    source = ("from tests.api.test_api import PORTFOLIO\nimport tests.cli.test_import\n"
              "from .test_segments import ONE_SEGMENT\nfrom tests.cadence import test_differential\n"
              "from tests.support.portfolio import PORTFOLIO\nimport pytest\n")
    assert imported_test_modules(source) == [
        ".test_segments", "tests.api.test_api", "tests.cadence.test_differential", "tests.cli.test_import"]


def test_no_test_module_imports_another() -> None:
    offenders = {
        str(path.relative_to(ROOT)): names
        for folder in ("tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "test_test_imports.py"
        and (names := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "move the shared helpers into tests/support/"


def test_test_module_names_are_unique() -> None:
    """The test folders are not packages: pytest imports each module by its bare name, so
    two files called ``test_x.py`` in different folders stop the whole collection."""
    seen: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if (path.parent / "__init__.py").exists():
            continue
        seen.setdefault(path.name, []).append(str(path.relative_to(ROOT)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
