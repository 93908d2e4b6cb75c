"""Sample policies and hypothesis strategies for valid policies, shared by the régua
differential tests and the ``acordo policies check`` dry-run property."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from bot.policies.models import Policy

CREDITOR = "acme"
# A policy file with one segment and no `when`.
ONE_SEGMENT = """
version: 1
creditor: {name: "Uma Credora Ltda", tax_id: "11.222.333/0001-81", timezone: "America/Sao_Paulo"}
segments:
  - {name: all, negotiation: tight, cadence: basic}
negotiation:
  tight: {full_payment_discount_max_percent: 5, installments_max: 6, installment_min_amount: "100.00",
          down_payment_min_percent: 10, monthly_interest_percent: 1, first_due_within_days: 10, max_rounds: 4}
cadence:
  basic:
    - {day: 1, template: overdue_first, channels: [whatsapp, sms]}
"""
CHANNELS = ("whatsapp", "sms", "telegram", "web", "email")
ZONES = ("America/Sao_Paulo", "America/Noronha", "America/Manaus", "America/Rio_Branco")
TEMPLATES = ("reminder_upcoming", "overdue_first", "overdue_offer")
WINDOWS = ("08:00-20:00", "00:00-06:00", "09:00-12:00", "13:00-18:00", "00:00-23:59", "22:00-23:30")
DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


# -- policies ------------------------------------------------------------------------------------


def bounds(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """``{min}``, ``{max}`` or ``{min, max}`` with min <= max."""
    return st.one_of(
        values.map(lambda v: {"min": v}),
        values.map(lambda v: {"max": v}),
        st.tuples(values, values).map(lambda p: {"min": min(p), "max": max(p)}),
    )


MONEY = st.sampled_from([Decimal("50.00"), Decimal("100.00"), Decimal("999.99"), Decimal("1000.00"),
                         Decimal("50000.00")]).map(str)
CONDITIONS = st.fixed_dictionaries({}, optional={
    "days_past_due": bounds(st.integers(-10, 60)),
    "balance": bounds(MONEY),
    "amount": bounds(MONEY),
    "broken_promises": bounds(st.integers(0, 2)),
    "past_days_late": bounds(st.integers(0, 30)),
})
STEP = st.fixed_dictionaries({
    "day": st.integers(-5, 40),
    "template": st.sampled_from(TEMPLATES),
    "channels": st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=5, unique=True),
})


@st.composite
def hours(draw: st.DrawFn) -> dict[str, str]:
    shape = draw(st.sampled_from(["default", "saturday_only", "per_day"]))
    if shape == "default":
        return {"mon-fri": "08:00-20:00", "sat": "08:00-14:00"}
    if shape == "saturday_only":
        return {"sat": draw(st.sampled_from(WINDOWS))}
    chosen = draw(st.lists(st.sampled_from(DAY_KEYS), min_size=1, max_size=7, unique=True))
    return {key: draw(st.sampled_from(WINDOWS)) for key in chosen}


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    cadences = {f"c{i}": draw(st.lists(STEP, min_size=1, max_size=4)) for i in range(draw(st.integers(1, 3)))}
    count = draw(st.integers(1, 6))
    segments = []
    for index in range(count):
        segment: dict[str, Any] = {"name": f"s{index}", "negotiation": "std",
                                   "cadence": draw(st.sampled_from(sorted(cadences)))}
        when = draw(CONDITIONS if index < count - 1 else st.none() | CONDITIONS)
        if when is not None:
            segment["when"] = when
        segments.append(segment)
    per_day = draw(st.integers(1, 5))
    hardship = draw(st.fixed_dictionaries({}, optional={
        "first_installment_deferral_days": st.integers(0, 90),
        "max_installments": st.integers(1, 48),
        "handoff_keywords": st.lists(st.sampled_from(["falência", "advogado", "lawyer"]), unique=True),
        "handoff_intents": st.lists(st.sampled_from(["financial_hardship", "complain"]), unique=True),
    }))
    return Policy.model_validate({
        "version": 1,
        "creditor": {"name": "Acme Credora Ltda", "tax_id": "11.222.333/0001-81",
                     "timezone": draw(st.sampled_from(ZONES))},
        "segments": segments,
        "negotiation": {"std": {
            "full_payment_discount_max_percent": 5, "installments_max": 6, "installment_min_amount": "100.00",
            "down_payment_min_percent": 10, "monthly_interest_percent": 1, "first_due_within_days": 10,
            "max_rounds": 4}},
        "cadence": cadences,
        "contact_rules": {
            "hours": draw(hours()),
            "holidays": draw(st.sampled_from(["BR", None])),
            "max_contacts": {"per_day": per_day, "per_7_days": draw(st.integers(1, 5))},
            "already_paid_pause_days": draw(st.integers(0, 5)),
        },
        **({"hardship": hardship} if hardship else {}),
    }).model_copy(update={"id": CREDITOR})
