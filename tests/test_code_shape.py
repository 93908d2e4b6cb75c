"""The code stays easy to read: no module of bot/ over 500 lines, no function over 60.

Alembic's migration scripts are generated and frozen, so they are not counted. Ruff's C901
and PLR0915 (pyproject.toml) bound a function's branching and statements; this bounds its
length and a module's, which no linter measures.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def measured_modules() -> list[Path]:
    return [path for path in sorted((ROOT / "bot").rglob("*.py"))
            if "migrations" not in path.relative_to(ROOT / "bot").parts]


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """(name, lines) of every function or method longer than ``limit`` (decorators aside)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > limit:
                found.append((node.name, length))
    return found


def test_the_measure_counts_a_function_from_def_to_its_last_line() -> None:
    body = "".join(f"    x{n} = {n}\n" for n in range(60))
    assert long_functions(f"def short():\n{body[:-12]}\n") == []
    assert long_functions(f"@decorator\nasync def long():\n{body}    return 1\n") == [("long", 62)]
    assert long_functions(f"class A:\n    def m(self):\n    {body.replace(chr(10), chr(10) + '    ')}") \
        == [("m", 61)]


def test_the_migrations_are_the_only_modules_left_out() -> None:
    left_out = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "bot").rglob("*.py")
                      if p not in measured_modules())
    assert left_out and all(path.startswith("bot/storage/migrations/") for path in left_out)


def test_no_module_is_over_500_lines() -> None:
    too_long = {str(path.relative_to(ROOT)): lines for path in measured_modules()
                if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert too_long == {}


def test_no_function_is_over_60_lines() -> None:
    too_long = {f"{path.relative_to(ROOT)}:{name}": lines for path in measured_modules()
                for name, lines in long_functions(path.read_text(encoding="utf-8"))}
    assert too_long == {}
