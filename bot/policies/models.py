"""Creditor policy models (the policy file schema, docs/policies.md).

A policy file is loaded once into these frozen, validated models. Every key
beyond the contract's minimum schema is optional with a documented default
(see docs/policies.md). Money is ``Decimal``; percentages are ``Decimal`` too.
"""

from __future__ import annotations

import re
from datetime import date, time
from decimal import Decimal
from typing import Annotated, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from validate_docbr import CNPJ

from bot.policies.segments import SegmentFacts, first_segment, holds

# Every messaging channel a contact can be reached on (the storage enum, the API and the
# régua use these names).
ChannelName = Literal["web", "telegram", "whatsapp", "sms", "email"]
CHANNEL_NAMES: tuple[str, ...] = get_args(ChannelName)

class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


Percent = Annotated[Decimal, Field(ge=0, le=100)]
Money = Annotated[Decimal, Field(ge=0, decimal_places=2)]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegativeInt = Annotated[int, Field(ge=0)]
Name = Annotated[str, StringConstraints(min_length=1, pattern=r"^[a-z0-9_]+$")]


def _reject_float(value: object) -> object:
    """Money in files is a decimal string; a YAML float would lose cents."""
    if isinstance(value, float):
        raise ValueError("money must be a quoted decimal string such as \"500.00\", not a number")
    return value


class Creditor(_Frozen):
    name: Annotated[str, StringConstraints(min_length=1)]
    tax_id: str
    timezone: str = "America/Sao_Paulo"
    currency: Literal["BRL"] = "BRL"
    pix_key: str | None = None
    city: str = "SAO PAULO"

    @field_validator("tax_id")
    @classmethod
    def _valid_cnpj(cls, value: str) -> str:
        if not CNPJ().validate(value):
            raise ValueError(f"{value!r} is not a valid CNPJ")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return validate_timezone(value)

    @property
    def tax_id_digits(self) -> str:
        return re.sub(r"\D", "", self.tax_id)


def validate_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class DaysPastDue(_Frozen):
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DaysPastDue:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self


class AmountRange(_Frozen):
    min: Money | None = None
    max: Money | None = None

    _floats = field_validator("min", "max", mode="before")(_reject_float)


class CountRange(_Frozen):
    """An inclusive range of a count or a number of days (``{min: 1}``, ``{max: 10}``)."""

    min: NonNegativeInt | None = None
    max: NonNegativeInt | None = None

    @model_validator(mode="after")
    def _ordered(self) -> CountRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is greater than max")
        return self

    def contains(self, value: int) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class SegmentCondition(_Frozen):
    """When a segment applies. Every key is optional; all given keys must match.

    ``days_past_due`` and ``balance`` (the minimum schema); optional extensions (docs/policies.md):
    ``amount`` (the invoice's face amount, money strings), ``broken_promises`` (promises the
    debtor broke in the last 365 days) and ``past_days_late`` (the most days late any of the
    debtor's paid invoices was paid).
    """

    days_past_due: DaysPastDue | None = None
    balance: AmountRange | None = None
    amount: AmountRange | None = None
    broken_promises: CountRange | None = None
    past_days_late: CountRange | None = None

    def matches(self, days_past_due: int, balance: Decimal, *, amount: Decimal | None = None,
                broken_promises: int = 0, past_days_late: int = 0) -> bool:
        """Whether every bound holds (:mod:`bot.policies.segments`; ``amount`` defaults to
        ``balance``)."""
        facts = SegmentFacts(days_past_due, balance, balance if amount is None else amount,
                             broken_promises, past_days_late)
        return holds(self, facts)


class Segment(_Frozen):
    name: Name
    when: SegmentCondition | None = None
    negotiation: Name
    cadence: Name


class NegotiationProfile(_Frozen):
    """Limits of one negotiation profile. All are hard limits."""

    full_payment_discount_max_percent: Percent
    installments_max: PositiveInt
    installment_min_amount: Money
    down_payment_min_percent: Percent
    monthly_interest_percent: Percent
    first_due_within_days: NonNegativeInt
    max_rounds: PositiveInt
    agreement_grace_days: NonNegativeInt = 5
    promise_grace_days: NonNegativeInt = 2
    # A promise to pay is recorded only up to today + this many days.
    promise_max_days: Annotated[int, Field(ge=1, le=365)] = 30
    # Optional extensions (documented defaults):
    discount_step_percent: Annotated[Decimal, Field(gt=0, le=100)] = Decimal("2.5")
    installment_interval_days: PositiveInt = 30

    _floats = field_validator("installment_min_amount", mode="before")(_reject_float)


class LateCharges(_Frozen):
    """How a debt's balance grows after its due date (Brazilian multa + juros de mora)."""

    late_fee_percent: Percent = Decimal("2")
    monthly_interest_percent: Percent = Decimal("1")


class DunningStep(_Frozen):
    """One step of a régua: ``day`` relative to the due date (negative: before it).

    ``channels`` are tried in order (the first with a reachable contact; on a failed
    delivery the next one); ``offer_negotiation`` adds the negotiation buttons (pay in full,
    installments) to the reminder.
    """

    day: int
    template: Name
    channels: tuple[ChannelName, ...] = Field(
        default=("whatsapp", "sms", "telegram"), min_length=1)
    offer_negotiation: bool = False


_HOURS_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ContactWindow(_Frozen):
    start: time
    end: time


def _parse_hours(key: str, value: str) -> tuple[list[int], ContactWindow]:
    if "-" in key:
        first, last = key.split("-", 1)
        if first not in _DAY_KEYS or last not in _DAY_KEYS:
            raise ValueError(f"unknown day range {key!r} (use mon..sun, e.g. mon-fri)")
        i, j = _DAY_KEYS.index(first), _DAY_KEYS.index(last)
        if i > j:
            raise ValueError(f"day range {key!r} runs backwards")
        days = list(range(i, j + 1))
    elif key in _DAY_KEYS:
        days = [_DAY_KEYS.index(key)]
    else:
        raise ValueError(f"unknown day {key!r} (use mon..sun, e.g. mon-fri)")
    match = _HOURS_RE.match(value.strip())
    if not match:
        raise ValueError(f"hours for {key!r} must look like \"08:00-20:00\", got {value!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        window = ContactWindow(start=time(h1, m1), end=time(h2, m2))
    except ValueError as exc:
        raise ValueError(f"hours for {key!r}: {exc}") from exc
    if window.start >= window.end:
        raise ValueError(f"hours for {key!r} end before they start")
    return days, window


class MaxContacts(_Frozen):
    per_day: NonNegativeInt = 1
    per_7_days: NonNegativeInt = 3


class ContactRules(_Frozen):
    hours: dict[str, str] = Field(
        default_factory=lambda: {"mon-fri": "08:00-20:00", "sat": "08:00-14:00"}
    )
    holidays: Literal["BR"] | None = "BR"
    max_contacts: MaxContacts = MaxContacts()
    closed_dates: tuple[str, ...] = ()
    # Optional extensions (docs/policies.md): after the debtor says "already paid", the
    # régua pauses until a payment is recorded or this many days pass.
    already_paid_pause_days: NonNegativeInt = 5

    @field_validator("closed_dates", mode="before")
    @classmethod
    def _yaml_dates(cls, value: object) -> object:
        """An unquoted YAML date (``2026-12-24``) arrives as a ``date``: keep its ISO text."""
        if isinstance(value, list | tuple):
            return tuple(v.isoformat() if isinstance(v, date) else v for v in value)
        return value

    @field_validator("closed_dates")
    @classmethod
    def _iso_dates(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                date.fromisoformat(item)
            except ValueError as exc:
                raise ValueError(f"closed date {item!r} is not YYYY-MM-DD") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, str]) -> dict[str, str]:
        seen: set[int] = set()
        for key, hours in value.items():
            days, _ = _parse_hours(key, hours)
            if seen.intersection(days):
                raise ValueError(f"day {key!r} is listed twice")
            seen.update(days)
        return value

    def windows(self) -> dict[int, ContactWindow]:
        """Allowed window per weekday (0 = Monday); days absent are closed."""
        result: dict[int, ContactWindow] = {}
        for key, hours in self.hours.items():
            days, window = _parse_hours(key, hours)
            for day in days:
                result[day] = window
        return result


class AgentLimits(_Frozen):
    full_payment_discount_max_percent: Percent = Decimal("0")
    installments_max: PositiveInt = 1


class Handoff(_Frozen):
    on_intents: tuple[str, ...] = ("request_human", "dispute_debt", "complain")
    after_fallbacks: PositiveInt = 2
    balance_above: Money | None = None
    agent_limits: AgentLimits = AgentLimits()

    _floats = field_validator("balance_above", mode="before")(_reject_float)


class Hardship(_Frozen):
    """The hardship path: what changes once the debtor says they cannot pay as offered.

    Every key is optional; without them the bot concedes one ladder step per hardship
    statement under the profile's own limits. The extensions apply on the hardship path only.
    """

    # The first payment of a hardship offer may be due up to today + this many days.
    first_installment_deferral_days: Annotated[int, Field(ge=0, le=90)] = 0
    # The longest plan on the hardship path (never fewer than the profile's installments_max).
    max_installments: Annotated[int, Field(ge=1, le=120)] | None = None
    # A message containing one of these (accents and case ignored) goes straight to a person.
    handoff_keywords: tuple[Annotated[str, StringConstraints(min_length=2)], ...] = ()
    # A hardship statement recognised as one of these intents goes straight to a person.
    handoff_intents: tuple[str, ...] = ()


HOSTILE_WORDS_PT = (
    "prisão", "preso", "cadeia", "processo criminal", "polícia", "nome sujo",
    "sujar o seu nome", "sujar seu nome", "vamos expor", "expor a sua empresa",
    "último aviso antes de", "ultimo aviso antes de", "vai se arrepender",
)
HOSTILE_WORDS_EN = (
    "jail", "prison", "arrest", "criminal charges", "criminal case", "police",
    "ruin your name", "dirty name", "we will expose", "we'll expose", "expose you",
    "final warning before", "last warning before", "you will regret",
)


class TemplateRules(_Frozen):
    """What the template admin checks before saving a message template (all optional).

    ``identification_required`` / ``opt_out_required``: which templates must name the
    creditor / carry an opt-out line: ``cadence`` (templates the bot sends first, named in
    a ``cadence`` step), ``all`` or ``none``. ``opt_out_channels`` limits the opt-out rule
    to those channels' versions (a template for every channel counts as all of them).
    """

    identification_required: Literal["cadence", "all", "none"] = "cadence"
    opt_out_required: Literal["cadence", "all", "none"] = "cadence"
    opt_out_channels: tuple[ChannelName, ...] = (
        "whatsapp", "sms", "telegram",
    )
    opt_out_markers: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {"pt-BR": ("SAIR", "PARAR"), "en": ("STOP", "UNSUBSCRIBE", "SAIR")}
    )
    hostile_words: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: {"pt-BR": HOSTILE_WORDS_PT, "en": HOSTILE_WORDS_EN}
    )
    sms_max_chars: PositiveInt = 480
    whatsapp_max_chars: PositiveInt = 1600


class Policy(_Frozen):
    version: Literal[1]
    creditor: Creditor
    segments: tuple[Segment, ...] = Field(min_length=1)
    negotiation: dict[Name, NegotiationProfile] = Field(min_length=1)
    cadence: dict[Name, tuple[DunningStep, ...]] = Field(default_factory=dict)
    contact_rules: ContactRules = ContactRules()
    handoff: Handoff = Handoff()
    hardship: Hardship = Hardship()
    charges: LateCharges = LateCharges()
    templates: TemplateRules = TemplateRules()
    # Set by the loader from the file name; not written in the file.
    id: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _references_resolve(self) -> Policy:
        for index, segment in enumerate(self.segments):
            if segment.negotiation not in self.negotiation:
                raise ValueError(
                    f"segments.{index}.negotiation: profile {segment.negotiation!r} "
                    f"is not defined under negotiation"
                )
            if self.cadence and segment.cadence not in self.cadence:
                raise ValueError(
                    f"segments.{index}.cadence: cadence {segment.cadence!r} "
                    f"is not defined under cadence"
                )
            if segment.when is None and index != len(self.segments) - 1:
                raise ValueError(
                    f"segments.{index}.when: only the last segment may omit 'when'"
                )
        return self

    def segment_for(self, days_past_due: int, balance: Decimal) -> Segment:
        """First matching segment wins; falls back to the last one (:mod:`bot.policies.segments`;
        the negotiation knows the balance only, which stands for the amount too)."""
        return first_segment(self.segments, SegmentFacts(days_past_due, balance, balance))

    def profile_for(self, days_past_due: int, balance: Decimal) -> NegotiationProfile:
        return self.negotiation[self.segment_for(days_past_due, balance).negotiation]
