"""Human labels for the codes the staff pages show (reasons, offers, statuses, audit kinds).

Each module maps one kind of code to an English message id marked with ``N_`` (so
``make messages`` extracts it); the page translates it into the reader's language.
A code without a label is shown as it is, never hidden.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.staff.labels.audit import AUDIT_KINDS
from bot.staff.labels.offers import OFFER_KINDS
from bot.staff.labels.parties import AUTHORS, CHANNELS, ROLES
from bot.staff.labels.reasons import HANDOFF_REASONS
from bot.staff.labels.statuses import STATUSES

LABELS: Mapping[str, Mapping[str, str]] = {
    "reason": HANDOFF_REASONS, "audit": AUDIT_KINDS, "author": AUTHORS, "channel": CHANNELS,
    "role": ROLES, "offer_kind": OFFER_KINDS,
    **{f"status.{kind}": codes for kind, codes in STATUSES.items()},
}


def label_id(kind: str, code: str) -> str:
    """The English message id of ``code`` of ``kind`` (``"status.debt"``, ``"reason"`` ...);
    the code itself when it has none."""
    return LABELS[kind].get(code, code)
