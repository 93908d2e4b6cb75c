"""How many examples the generated suites (hypothesis, schemathesis) run.

``make test`` runs each at its full count. ``make test-anytime`` sets
``ACORDO_TEST_EXAMPLES_SCALE`` (0.2 unless given): those suites vary the input, not the
date, and under libfaketime every hand-off between the event loop and the database thread
is several times slower, so the whole suite at full counts would not fit CI's time budget.
A suite's own variable (``ACORDO_DIFF_EXAMPLES``, ``ACORDO_PROPERTY_EXAMPLES``) wins over
the scale.
"""

from __future__ import annotations

import math
import os

SCALE_VARIABLE = "ACORDO_TEST_EXAMPLES_SCALE"


def examples(full: int, *, variable: str | None = None) -> int:
    if variable and os.environ.get(variable):
        return int(os.environ[variable])
    scale = float(os.environ.get(SCALE_VARIABLE) or "1")
    return max(1, math.ceil(full * scale))
