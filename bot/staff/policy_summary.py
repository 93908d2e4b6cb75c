"""A creditor policy in words, for /admin/policies: per segment its rule, its negotiation limits
and its régua; then the contact rules. Money and percentages in the reader's format."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from bot.policies.models import AmountRange, CountRange, DaysPastDue, Policy, SegmentCondition
from bot.staff.i18n import StaffLocale
from bot.staff.i18n_markers import N_
from bot.staff.labels.templates import about

WEEKDAYS = {"mon": N_("Mon"), "tue": N_("Tue"), "wed": N_("Wed"), "thu": N_("Thu"), "fri": N_("Fri"),
            "sat": N_("Sat"), "sun": N_("Sun")}


@dataclass(frozen=True)
class StepSummary:
    day: str
    template: str
    description: str
    channels: str


@dataclass(frozen=True)
class SegmentSummary:
    name: str
    rule: str
    limits: list[tuple[str, str]]  # (what, value)
    cadence: str
    steps: list[StepSummary]


@dataclass(frozen=True)
class PolicySummary:
    creditor_id: str
    creditor: str
    tax_id: str
    timezone: str
    segments: list[SegmentSummary]
    contact: list[tuple[str, str]]


def _range(words: StaffLocale, low: str | None, high: str | None, what: str) -> str:
    _ = words.gettext
    values = {"min": low, "max": high, "what": _(what)}
    if low is not None and high is not None:
        return _("%(what)s from %(min)s to %(max)s") % values
    if low is not None:
        return _("%(what)s of %(min)s or more") % values
    return _("%(what)s up to %(max)s") % values


def _bound_value(value: int | Decimal | None, money: bool, words: StaffLocale) -> str | None:
    if value is None:
        return None
    return words.money(Decimal(value)) if money else str(value)


def _rule(when: SegmentCondition | None, words: StaffLocale) -> str:
    parts: list[str] = []
    bounds: list[tuple[DaysPastDue | AmountRange | CountRange | None, str, bool]] = []
    if when is not None:
        bounds = [(when.days_past_due, N_("days past due"), False), (when.balance, N_("balance"), True),
                  (when.amount, N_("invoice amount"), True),
                  (when.broken_promises, N_("broken promises (last 365 days)"), False),
                  (when.past_days_late, N_("days late on past payments"), False)]
    for bound, what, money in bounds:
        if bound is None or (bound.min is None and bound.max is None):
            continue
        shown = [_bound_value(v, money, words) for v in (bound.min, bound.max)]
        parts.append(_range(words, shown[0], shown[1], what))
    return "; ".join(parts) if parts else words.gettext("every debtor not matched above")


def _limits(policy: Policy, profile_name: str, words: StaffLocale) -> list[tuple[str, str]]:
    _ = words.gettext
    profile = policy.negotiation[profile_name]
    days = words.translations.ngettext("%(count)s day", "%(count)s days", profile.first_due_within_days)
    return [
        (_("Highest discount for paying in full"), words.percent(profile.full_payment_discount_max_percent)),
        (_("Most installments"), str(profile.installments_max)),
        (_("Smallest installment"), words.money(profile.installment_min_amount, policy.creditor.currency)),
        (_("Smallest down payment"), words.percent(profile.down_payment_min_percent)),
        (_("First payment due within"), days % {"count": profile.first_due_within_days}),
        (_("Interest on installments, a month"), words.percent(profile.monthly_interest_percent)),
        (_("Counter-offers before a person takes over"), str(profile.max_rounds)),
    ]


def _day(day: int, words: StaffLocale) -> str:
    if day < 0:
        return words.translations.ngettext("%(count)s day before the due date",
                                           "%(count)s days before the due date", -day) % {"count": -day}
    if day == 0:
        return words.gettext("on the due date")
    return words.translations.ngettext("%(count)s day after the due date",
                                       "%(count)s days after the due date", day) % {"count": day}


def _steps(policy: Policy, cadence: str, words: StaffLocale) -> list[StepSummary]:
    steps = []
    for step in policy.cadence.get(cadence, ()):
        known = about(step.template)
        steps.append(StepSummary(
            _day(step.day, words), step.template,
            words.gettext(known.description) if known else words.gettext("not described"),
            ", ".join(words.label(channel, "channel") for channel in step.channels)))
    return steps


def _hours(key: str, window: str, words: StaffLocale) -> tuple[str, str]:
    days = re.sub(r"[a-z]{3}", lambda m: words.gettext(WEEKDAYS.get(m.group(0), m.group(0))), key)
    return days.replace("-", "–"), window.replace("-", "–")


def _contact(policy: Policy, words: StaffLocale) -> list[tuple[str, str]]:
    _ = words.gettext
    rules = policy.contact_rules
    hours = "; ".join(" ".join(_hours(key, window, words)) for key, window in rules.hours.items())
    lines = [(_("Contact hours (%(zone)s)") % {"zone": policy.creditor.timezone}, hours),
             (_("Holidays"), _("no contact on Brazil's national holidays") if rules.holidays == "BR"
              else _("contact on holidays too")),
             (_("Most contacts"), _("%(day)s a day, %(week)s in 7 days") % {
                 "day": rules.max_contacts.per_day, "week": rules.max_contacts.per_7_days})]
    if rules.closed_dates:
        lines.append((_("Closed dates"), ", ".join(rules.closed_dates)))
    return lines


def summarize(creditor_id: str, policy: Policy, words: StaffLocale) -> PolicySummary:
    segments = [SegmentSummary(segment.name, _rule(segment.when, words),
                               _limits(policy, segment.negotiation, words), segment.cadence,
                               _steps(policy, segment.cadence, words))
                for segment in policy.segments]
    return PolicySummary(creditor_id, policy.creditor.name, policy.creditor.tax_id,
                         policy.creditor.timezone, segments, _contact(policy, words))
