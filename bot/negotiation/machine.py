"""The negotiation state machine, as a declarative table (see ``TRANSITIONS``).

``decide(state, event, ctx)`` looks up ``(state.stage, type(event))`` in ``TRANSITIONS`` and
runs its handler, which returns the next state and the decisions for the service layer to
carry out. Pairs absent from the table (every event once handed off) change nothing and
decide nothing. ``to_mermaid()`` draws the table; docs/negotiation.md holds its output.

Rounds: every concession, counter-offer or repeated refusal counts one round; when a
round would pass ``max_rounds`` the negotiation is handed off (``HandedOff("max_rounds")``).
First offers of each kind, re-offers after "pay in full", proposals within limits and
acceptances count nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bot.negotiation.ladder import ConcessionLadder
from bot.negotiation.offers import (
    Limits,
    Offer,
    full_payment_offer,
    offer_violations,
)
from bot.negotiation.proposals import Proposal, closest_plan, evaluate_proposal


class Stage(StrEnum):
    OPEN = "open"
    OFFERED = "offered"
    AGREED = "agreed"
    HANDED_OFF = "handed_off"


class NegotiationState(BaseModel):
    """Persisted between messages (``model_dump(mode="json")`` / ``model_validate``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Stage = Stage.OPEN
    rounds: int = Field(default=0, ge=0)
    current_offer: Offer | None = None
    last_discount_offer: Offer | None = None
    last_installment_offer: Offer | None = None
    # The debtor said they cannot pay as offered: the hardship limits apply from then on.
    hardship: bool = False


# Events: what the debtor asks for (imperative commands).


@dataclass(frozen=True, slots=True)
class PayInFull:
    """The debtor wants to pay everything at once."""


@dataclass(frozen=True, slots=True)
class AskDiscount:
    """The debtor asks for a (bigger) discount."""


@dataclass(frozen=True, slots=True)
class AskInstallments:
    """The debtor asks to pay in installments, optionally in ``count`` payments."""

    count: int | None = None


@dataclass(frozen=True, slots=True)
class Propose:
    """The debtor proposes concrete terms."""

    proposal: Proposal


@dataclass(frozen=True, slots=True)
class Accept:
    """The debtor accepts the current offer."""


@dataclass(frozen=True, slots=True)
class Refuse:
    """The debtor refuses the current offer."""


@dataclass(frozen=True, slots=True)
class Hardship:
    """The debtor says they cannot pay (unemployed, ill, ...)."""


Event = PayInFull | AskDiscount | AskInstallments | Propose | Accept | Refuse | Hardship
EVENT_TYPES: tuple[type[Event], ...] = (
    PayInFull,
    AskDiscount,
    AskInstallments,
    Propose,
    Accept,
    Refuse,
    Hardship,
)


# Decisions: what the service layer must do (past tense, data only).


@dataclass(frozen=True, slots=True)
class OfferMade:
    """Present ``offer`` and ask for confirmation. ``reason`` is one of ``OFFER_REASONS``."""

    offer: Offer
    reason: str


@dataclass(frozen=True, slots=True)
class CounterOffered:
    """The debtor's proposal does not fit; present ``offer`` (the closest plan that does)."""

    offer: Offer
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgreementReached:
    """Record the agreement on ``offer`` (always within the limits of the context)."""

    offer: Offer


@dataclass(frozen=True, slots=True)
class HandedOff:
    """Hand the negotiation to a human agent. ``reason``: "max_rounds" | "limits_exhausted"."""

    reason: str


@dataclass(frozen=True, slots=True)
class NothingToAccept:
    """The debtor accepted, but nothing was offered yet."""


@dataclass(frozen=True, slots=True)
class AlreadyAgreed:
    """An agreement already exists on ``offer``."""

    offer: Offer


Decision = (
    OfferMade | CounterOffered | AgreementReached | HandedOff | NothingToAccept | AlreadyAgreed
)

OFFER_REASONS: dict[str, str] = {
    "first_offer": "first offer of its kind (full payment without discount, or 2 payments)",
    "concession": "one step down the ladder after a refusal or a request",
    "pay_in_full": "the best full-payment offer made so far (or the first one)",
    "proposal_within_limits": "the debtor's own proposal, within limits, to be confirmed",
    "hardship": "one step toward a lighter plan (one more payment; else a larger discount)",
    "discount_limit_reached": "already at the maximum discount; the same offer again",
    "installments_limit_reached": "already at the longest plan; the same offer again",
    "installments_unavailable": "no plan fits the limits for this balance; full payment",
    "offer_refreshed": "the accepted offer went stale (date or limits); same terms for today",
}


@dataclass(frozen=True, slots=True)
class NegotiationContext:
    """Everything a decision depends on besides the state: passed in, never read."""

    balance: Decimal
    today: date
    limits: Limits
    max_rounds: int
    # The limits on the hardship path (``Limits.for_hardship``); None: ``limits`` throughout.
    hardship_limits: Limits | None = None

    def ladder(self) -> ConcessionLadder:
        return ConcessionLadder(self.balance, self.today, self.limits)


Outcome = tuple[NegotiationState, tuple[Decision, ...]]
Handler = Callable[[NegotiationState, Event, NegotiationContext], Outcome]


@dataclass(frozen=True, slots=True)
class Transition:
    """What an event does in a stage: its handler and the stages it may lead to."""

    handler: Handler
    targets: tuple[Stage, ...]


def _offered(
    state: NegotiationState, offer: Offer, decision: Decision, rounds: int | None = None
) -> Outcome:
    update: dict[str, object] = {
        "stage": Stage.OFFERED,
        "current_offer": offer,
        "rounds": state.rounds if rounds is None else rounds,
    }
    if offer.kind == "full_payment":
        update["last_discount_offer"] = offer
    else:
        update["last_installment_offer"] = offer
    return state.model_copy(update=update), (decision,)


def _offer(state: NegotiationState, offer: Offer, reason: str) -> Outcome:
    return _offered(state, offer, OfferMade(offer=offer, reason=reason))


def _another_round(
    state: NegotiationState,
    ctx: NegotiationContext,
    offer: Offer | None,
    reason: str,
) -> Outcome:
    """Count a round; offer ``offer`` unless the limits or the rounds are exhausted."""
    rounds = state.rounds + 1
    if offer is None:
        return _hand_off(state, "limits_exhausted", rounds)
    if rounds > ctx.max_rounds:
        return _hand_off(state, "max_rounds", rounds)
    return _offered(state, offer, OfferMade(offer=offer, reason=reason), rounds)


def _hand_off(state: NegotiationState, reason: str, rounds: int) -> Outcome:
    handed_off = state.model_copy(update={"stage": Stage.HANDED_OFF, "rounds": rounds})
    return handed_off, (HandedOff(reason=reason),)


def refreshed(offer: Offer, ctx: NegotiationContext) -> Offer:
    """``offer`` if it still fits today's balance and limits, else the same terms rebuilt."""
    fits = not offer_violations(offer, ctx.today, ctx.limits)
    if fits and offer.balance == ctx.balance:
        return offer
    if offer.kind == "full_payment":
        discount = min(offer.discount_percent, ctx.limits.discount_max_percent)
        return full_payment_offer(ctx.balance, discount, ctx.today, ctx.limits)
    return closest_plan(ctx.balance, offer.count, ctx.today, ctx.limits)


def _best_full_payment(state: NegotiationState, ctx: NegotiationContext) -> Offer:
    if state.last_discount_offer is None:
        return ctx.ladder().first_offer
    return refreshed(state.last_discount_offer, ctx)


# Handlers. Each takes (state, event, ctx) and returns (next state, decisions).


def _first_offer(state: NegotiationState, event: Event, ctx: NegotiationContext) -> Outcome:
    return _offer(state, ctx.ladder().first_offer, "first_offer")


def _pay_in_full(state: NegotiationState, event: Event, ctx: NegotiationContext) -> Outcome:
    return _offer(state, _best_full_payment(state, ctx), "pay_in_full")


def _ask_discount(state: NegotiationState, event: Event, ctx: NegotiationContext) -> Outcome:
    ladder = ctx.ladder()
    previous = state.last_discount_offer
    if previous is None:
        first = ladder.next_discount(ladder.first_offer)
        if first is None:
            return _offer(state, ladder.first_offer, "discount_limit_reached")
        return _offer(state, first, "first_offer")
    following = ladder.next_discount(previous)
    if following is None:
        return _another_round(state, ctx, refreshed(previous, ctx), "discount_limit_reached")
    return _another_round(state, ctx, following, "concession")


def _ask_installments(
    state: NegotiationState, event: Event, ctx: NegotiationContext
) -> Outcome:
    if isinstance(event, AskInstallments) and event.count is not None:
        return _propose(state, Propose(Proposal(installments=event.count)), ctx)
    ladder = ctx.ladder()
    if not ladder.offers_installments:
        offer = _best_full_payment(state, ctx)
        return _another_round(state, ctx, offer, "installments_unavailable")
    previous = state.last_installment_offer
    if previous is None:
        return _offer(state, ladder.installment_plan(ladder.installment_counts[0]), "first_offer")
    following = ladder.next_installments(previous)
    if following is None:
        return _another_round(state, ctx, refreshed(previous, ctx), "installments_limit_reached")
    return _another_round(state, ctx, following, "concession")


def _propose(state: NegotiationState, event: Event, ctx: NegotiationContext) -> Outcome:
    if not isinstance(event, Propose):
        raise TypeError(f"expected Propose, got {event!r}")
    evaluation = evaluate_proposal(event.proposal, ctx.balance, ctx.today, ctx.limits)
    if evaluation.accepted and evaluation.offer is not None:
        return _offer(state, evaluation.offer, "proposal_within_limits")
    if evaluation.offer is None:  # not understood: show what is on the table again
        current = state.current_offer
        offer = ctx.ladder().first_offer if current is None else refreshed(current, ctx)
        return _offered(state, offer, CounterOffered(offer=offer, reasons=evaluation.reasons))
    rounds = state.rounds + 1
    if rounds > ctx.max_rounds:
        return _hand_off(state, "max_rounds", rounds)
    counter = CounterOffered(offer=evaluation.offer, reasons=evaluation.reasons)
    return _offered(state, evaluation.offer, counter, rounds)


def _hardship(state: NegotiationState, event: Event, ctx: NegotiationContext) -> Outcome:
    """One step at a time: a plan with one more payment than the last one offered (the
    shortest plan first); when no plan fits, the next discount. Hands off at the end."""
    ladder = ctx.ladder()
    state = state.model_copy(update={"hardship": True})
    if not ladder.offers_installments:
        return _another_round(state, ctx, ladder.next_discount(state.last_discount_offer), "hardship")
    current = state.current_offer
    after = current if current is not None and current.kind == "installments" else (
        state.last_installment_offer)
    return _another_round(state, ctx, ladder.next_installments(after), "hardship")


def _refuse(state: NegotiationState, event: Event, ctx: NegotiationContext) -> Outcome:
    """Concede one step of the same kind; switch kind when it is exhausted."""
    ladder = ctx.ladder()
    current = state.current_offer
    if current is None:
        return _first_offer(state, event, ctx)
    if current.kind == "full_payment":
        following = ladder.next_discount(current) or ladder.next_installments(
            state.last_installment_offer
        )
    else:
        following = ladder.next_installments(current) or ladder.next_discount(
            state.last_discount_offer
        )
    return _another_round(state, ctx, following, "concession")


def _accept(state: NegotiationState, event: Event, ctx: NegotiationContext) -> Outcome:
    current = state.current_offer
    if current is None:
        return _nothing_to_accept(state, event, ctx)
    if offer_violations(current, ctx.today, ctx.limits):
        return _offer(state, refreshed(current, ctx), "offer_refreshed")
    agreed = state.model_copy(update={"stage": Stage.AGREED})
    return agreed, (AgreementReached(offer=current),)


def _nothing_to_accept(
    state: NegotiationState, event: Event, ctx: NegotiationContext
) -> Outcome:
    return state, (NothingToAccept(),)


def _already_agreed(state: NegotiationState, event: Event, ctx: NegotiationContext) -> Outcome:
    if state.current_offer is None:
        return _nothing_to_accept(state, event, ctx)
    return state, (AlreadyAgreed(offer=state.current_offer),)


OPEN, OFFERED, AGREED, HANDED_OFF = Stage

TRANSITIONS: Mapping[tuple[Stage, type[Event]], Transition] = {
    (OPEN, PayInFull): Transition(_pay_in_full, (OFFERED,)),
    (OPEN, AskDiscount): Transition(_ask_discount, (OFFERED,)),
    (OPEN, AskInstallments): Transition(_ask_installments, (OFFERED, HANDED_OFF)),
    (OPEN, Propose): Transition(_propose, (OFFERED, HANDED_OFF)),
    (OPEN, Hardship): Transition(_hardship, (OFFERED, HANDED_OFF)),
    (OPEN, Refuse): Transition(_first_offer, (OFFERED,)),
    (OPEN, Accept): Transition(_nothing_to_accept, (OPEN,)),
    (OFFERED, PayInFull): Transition(_pay_in_full, (OFFERED,)),
    (OFFERED, AskDiscount): Transition(_ask_discount, (OFFERED, HANDED_OFF)),
    (OFFERED, AskInstallments): Transition(_ask_installments, (OFFERED, HANDED_OFF)),
    (OFFERED, Propose): Transition(_propose, (OFFERED, HANDED_OFF)),
    (OFFERED, Hardship): Transition(_hardship, (OFFERED, HANDED_OFF)),
    (OFFERED, Refuse): Transition(_refuse, (OFFERED, HANDED_OFF)),
    (OFFERED, Accept): Transition(_accept, (AGREED, OFFERED)),
    **{(AGREED, event): Transition(_already_agreed, (AGREED,)) for event in EVENT_TYPES},
    # HANDED_OFF: a human owns the negotiation; no event changes anything.
}


def decide(
    state: NegotiationState, event: Event, ctx: NegotiationContext
) -> tuple[NegotiationState, tuple[Decision, ...]]:
    """Next state and decisions for ``event``; pure (same inputs, same outputs)."""
    transition = TRANSITIONS.get((state.stage, type(event)))
    if transition is None:
        return state, ()
    if ctx.hardship_limits is not None and (state.hardship or isinstance(event, Hardship)):
        ctx = replace(ctx, limits=ctx.hardship_limits)
    next_state, decisions = transition.handler(state, event, ctx)
    if next_state.stage not in transition.targets:
        raise RuntimeError(
            f"{type(event).__name__} in {state.stage} led to {next_state.stage}, "
            f"which TRANSITIONS does not list"
        )
    return next_state, decisions


def to_mermaid() -> str:
    """A Mermaid ``stateDiagram-v2`` of ``TRANSITIONS`` (edges labelled with event names)."""
    edges: dict[tuple[Stage, Stage], list[str]] = {}
    for (stage, event), transition in TRANSITIONS.items():
        for target in transition.targets:
            edges.setdefault((stage, target), []).append(event.__name__)
    lines = ["stateDiagram-v2", f"    [*] --> {OPEN}"]
    for (source, target), events in edges.items():
        lines.append(f"    {source} --> {target} : {', '.join(events)}")
    lines += [f"    {AGREED} --> [*]", f"    {HANDED_OFF} --> [*]"]
    return "\n".join(lines) + "\n"
