"""The dashboard's measures (periods, additive figures, result tables) and their assembly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.policies.models import CHANNEL_NAMES, Policy

ZERO = Decimal("0.00")
STATUSES = ("open", "in_agreement", "paid", "disputed", "written_off")
NOT_IN_CADENCE = "(not in a cadence)"


def dec(value: Any) -> Decimal:
    """A database number as an exact Decimal (SQLite returns floats for NUMERIC sums)."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def ratio(numerator: Decimal | int, denominator: Decimal | int, places: str = "0.0001") -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places), ROUND_HALF_UP)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    zone: str = "America/Sao_Paulo"

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(0), tzinfo=ZoneInfo(self.zone)).astimezone(UTC)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.zone)
                                ).astimezone(UTC)


DEBTOR_MEASURES = ("debtors", "overdue", "recovered", "agreements_made", "agreements_kept",
                   "agreements_broken", "agreements_without_human", "promises_made", "promises_kept",
                   "promises_broken", "paid_debtors_contacted", "days_to_payment_sum", "negotiations")
MESSAGE_MEASURES = ("contacts", "bot_messages", "agent_messages", "message_cost")


@dataclass
class Figures:
    """Additive measures of one group; ratios are derived."""

    values: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))

    def add(self, other: Mapping[str, Decimal]) -> None:
        for key, value in other.items():
            self.values[key] = self.values[key] + value

    def row(self, agent_cost: Decimal) -> dict[str, Any]:
        v = self.values
        cost = (v["message_cost"] + v["agent_messages"] * agent_cost).quantize(Decimal("0.01"))
        contacted = v["paid_debtors_contacted"]
        days = ((v["days_to_payment_sum"] / contacted).quantize(Decimal("0.1"), ROUND_HALF_UP)
                if contacted else None)
        return {
            "debtors": int(v["debtors"]),
            "overdue": v["overdue"].quantize(Decimal("0.01")),
            "recovered": v["recovered"].quantize(Decimal("0.01")),
            "recovery_rate": ratio(v["recovered"], v["overdue"]),
            "agreements_made": int(v["agreements_made"]),
            "agreements_kept": int(v["agreements_kept"]),
            "agreements_broken": int(v["agreements_broken"]),
            "promises_made": int(v["promises_made"]),
            "promises_kept": int(v["promises_kept"]),
            "promises_broken": int(v["promises_broken"]),
            "promise_kept_rate": ratio(v["promises_kept"], v["promises_kept"] + v["promises_broken"]),
            "avg_days_to_payment": days,
            "resolved_without_human": ratio(v["agreements_without_human"], v["agreements_made"]),
            "contacts": int(v["contacts"]),
            "contacts_per_real": ratio(v["contacts"], v["recovered"]),
            "cost": cost,
            "negotiations": int(v["negotiations"]),
            "cost_per_negotiation": ratio(cost, v["negotiations"], "0.01"),
        }


@dataclass
class Results:
    creditor: str
    period: Period
    summary: dict[str, Any]
    by_status: list[dict[str, Any]]
    over_time: list[dict[str, Any]]
    by_segment: list[dict[str, Any]]
    by_channel: list[dict[str, Any]]
    by_step: list[dict[str, Any]]
    by_template_version: list[dict[str, Any]]
    portal: dict[str, Any] = field(default_factory=dict)  # the portal as a channel

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return {"summary": [self.summary], "status": self.by_status, "over_time": self.over_time,
                "segment": self.by_segment, "channel": self.by_channel, "step": self.by_step,
                "template_version": self.by_template_version, "portal": [self.portal]}


def portal_figures(row: Any) -> dict[str, Any]:
    """The portal's row (``PORTAL_SQL``): its agreements, their total, the share made with no
    person's help, the average days from the first portal visit to the agreement."""
    agreements, timed = int(dec(row["agreements"])), int(dec(row["timed"]))
    days = ((dec(row["days_sum"]) / timed).quantize(Decimal("0.1"), ROUND_HALF_UP) if timed else None)
    return {
        "portal_agreements": agreements,
        "portal_agreed": dec(row["agreed"]).quantize(Decimal("0.01")),
        "portal_without_human": ratio(int(dec(row["without_human"])), agreements),
        "avg_days_visit_to_agreement": days,
        "portal_visitors": int(dec(row["visitors"])),
        "portal_links_issued": int(dec(row["links_issued"])),
    }


def cadence_steps(policy: Policy) -> dict[str, str]:
    """Template name -> ``cadence#n (day d)`` for every step of the policy's cadences."""
    steps: dict[str, str] = {}
    for name, cadence in policy.cadence.items():
        for index, step in enumerate(cadence, start=1):
            steps.setdefault(step.template, f"{name} #{index} (day {step.day:+d})")
    return steps


@dataclass
class _Groups:
    """The figures of one dashboard, grouped every way a table shows them."""

    total: Figures = field(default_factory=Figures)
    segments: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))
    channels: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))
    steps: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))
    versions: dict[str, Figures] = field(default_factory=lambda: defaultdict(Figures))


def assemble(creditor: str, policy: Policy, period: Period, costs: tuple[Mapping[str, Decimal], Decimal],
             debtor_rows: Iterable[Any], status_rows: Iterable[Any], message_rows: Iterable[Any],
             time_rows: Iterable[Any], touch_rows: Iterable[Any]) -> Results:
    """The grouped rows of the statements merged into the dashboard's tables; ``costs`` is
    the cost of one message by channel and of one agent message."""
    message_costs, agent_cost = costs
    step_of = cadence_steps(policy)
    groups = _Groups()
    _add_debtor_rows(groups, debtor_rows)
    _add_message_rows(groups, message_rows, step_of, message_costs)
    _add_touch_rows(groups, touch_rows, step_of)
    summary = groups.total.row(agent_cost)
    step_order = [*sorted(set(step_of.values())), NOT_IN_CADENCE]
    return Results(
        creditor=creditor, period=period, summary=summary,
        by_status=_status_table(status_rows),
        over_time=_over_time(time_rows, summary["overdue"]),
        by_segment=_table(groups.segments, "segment", agent_cost, [s.name for s in policy.segments]),
        by_channel=_table(groups.channels, "channel", agent_cost, list(CHANNEL_NAMES)),
        by_step=_touch_table(groups.steps, "step", agent_cost, step_order),
        by_template_version=_touch_table(groups.versions, "template_version", agent_cost),
    )


def _add_debtor_rows(groups: _Groups, debtor_rows: Iterable[Any]) -> None:
    for row in debtor_rows:
        measures = {key: dec(row[key]) for key in DEBTOR_MEASURES}
        for bucket in (groups.total, groups.segments[row["segment"]], groups.channels[row["channel"]]):
            bucket.add(measures)


def _add_message_rows(groups: _Groups, message_rows: Iterable[Any], step_of: Mapping[str, str],
                      message_costs: Mapping[str, Decimal]) -> None:
    for row in message_rows:
        count = Decimal(row["messages"])
        cost = message_costs.get(row["channel"], ZERO) * count
        measures = {"contacts": count, "message_cost": cost,
                    "bot_messages": count if row["author"] == "bot" else ZERO,
                    "agent_messages": count if row["author"] == "agent" else ZERO}
        template = row["template"] or ("(agent)" if row["author"] == "agent" else "(none)")
        for bucket in (groups.total, groups.segments[row["segment"]], groups.channels[row["channel"]],
                       groups.steps[step_of.get(row["template"], NOT_IN_CADENCE)],
                       groups.versions[f"{template} {row['version']}"]):
            bucket.add(measures)


def _add_touch_rows(groups: _Groups, touch_rows: Iterable[Any], step_of: Mapping[str, str]) -> None:
    """Outcomes credited to the régua's last touch (step, version)."""
    for row in touch_rows:
        if row["kind"] == "payment":
            measures = {"recovered": dec(row["amount"]), "payments": Decimal(row["outcomes"])}
        else:
            measures = {"agreements_made": Decimal(row["outcomes"])}
        step = step_of.get(row["touch"].rpartition(" ")[0], NOT_IN_CADENCE)
        for bucket in (groups.steps[step], groups.versions[row["touch"] or NOT_IN_CADENCE]):
            bucket.add(measures)


def _status_table(status_rows: Iterable[Any]) -> list[dict[str, Any]]:
    status: dict[str, dict[str, Any]] = {s: {"status": s, "debts": 0, "amount": ZERO, "outstanding": ZERO}
                                         for s in STATUSES}
    for row in status_rows:
        entry = status[row["status"]]
        entry["debts"] += int(dec(row["debts"]))
        entry["amount"] += dec(row["amount"])
        entry["outstanding"] += dec(row["outstanding"])
    return [{**v, "amount": v["amount"].quantize(Decimal("0.01")),
             "outstanding": v["outstanding"].quantize(Decimal("0.01"))} for v in status.values()]


def _over_time(time_rows: Iterable[Any], overdue: Decimal) -> list[dict[str, Any]]:
    over_time, cumulative = [], ZERO
    for row in time_rows:
        cumulative += dec(row["recovered"])
        over_time.append({"day": str(row["day"]), "recovered": dec(row["recovered"]),
                          "cumulative": cumulative, "recovery_rate": ratio(cumulative, overdue)})
    return over_time


def _table(groups: Mapping[str, Figures], label: str, agent_cost: Decimal,
           order: Sequence[str] = ()) -> list[dict[str, Any]]:
    keys = [k for k in order if k in groups] + sorted(k for k in groups if k not in order)
    return [{label: key, **groups[key].row(agent_cost)} for key in keys]


def _touch_table(groups: Mapping[str, Figures], label: str, agent_cost: Decimal,
                 order: Sequence[str] = ()) -> list[dict[str, Any]]:
    return [{label: r[label], **{c: r[c] for c in ("contacts", "cost")},
             "payments": int(groups[r[label]].values["payments"]),
             **{c: r[c] for c in ("recovered", "agreements_made", "contacts_per_real")}}
            for r in _table(groups, label, agent_cost, order)]
