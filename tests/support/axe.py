"""axe-core accessibility checks in the real Chromium (Playwright).

axe-core comes from npm (``make axe`` installs the pinned version into ``var/node``); the
script is injected into the page under test and run there. ``serious_violations(page)`` lists
the serious and critical violations, one line each, so a failing assertion names the rule and
the elements.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import ROOT

AXE_JS = ROOT / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def axe_script() -> Path | None:
    """The axe-core script, or ``None`` when ``make axe`` has not installed it."""
    return AXE_JS if AXE_JS.is_file() else None


def run_axe(page: Any) -> dict[str, Any]:
    """Inject axe-core into ``page`` and return its full result (WCAG 2.x A and AA rules)."""
    script = axe_script()
    if script is None:
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make axe`")
    page.add_script_tag(content=script.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {
               runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
               resultTypes: ['violations']})""")
    return result


def serious_violations(page: Any) -> list[str]:
    """One line per serious or critical violation: rule, impact, help and the elements."""
    lines = []
    for violation in run_axe(page)["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        targets = [json.dumps(node.get("target")) for node in violation.get("nodes", [])][:5]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — "
                     + ", ".join(targets))
    return lines
