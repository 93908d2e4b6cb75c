"""Statuses per kind of record: debts, offers, agreements, installments, promises, payment
claims, conversations (the enums of bot/storage)."""

from __future__ import annotations

from bot.staff.i18n_markers import N_

STATUSES: dict[str, dict[str, str]] = {
    "debt": {"open": N_("Open"), "in_agreement": N_("In an agreement"), "paid": N_("Paid"),
             "disputed": N_("Disputed"), "written_off": N_("Written off")},
    "offer": {"proposed": N_("Proposed"), "accepted": N_("Accepted"), "refused": N_("Refused"),
              "superseded": N_("Replaced by a newer offer")},
    "agreement": {"active": N_("Active"), "kept": N_("Kept"), "broken": N_("Broken"),
                  "cancelled": N_("Cancelled")},
    "installment": {"open": N_("Open"), "paid": N_("Paid"), "late": N_("Late")},
    "promise": {"pending": N_("Pending"), "kept": N_("Kept"), "broken": N_("Broken"),
                "cancelled": N_("Cancelled")},
    "claim": {"pending": N_("Pending"), "confirmed": N_("Confirmed"), "rejected": N_("Rejected")},
    "conversation": {"bot": N_("With the bot"), "human": N_("With a person"),
                     "opted_out": N_("Opted out")},
}
