"""Typed commands the custom actions hand to the service layer (imperative names)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.negotiation.proposals import Proposal


@dataclass(frozen=True)
class Command:
    """Base: every command carries the debtor's latest text (for value parsing)."""

    text: str = ""


@dataclass(frozen=True)
class Greet(Command): ...


@dataclass(frozen=True)
class SayGoodbye(Command): ...


@dataclass(frozen=True)
class ShowDebtDetails(Command): ...


@dataclass(frozen=True)
class OfferFullPayment(Command): ...


@dataclass(frozen=True)
class OfferDiscount(Command): ...


@dataclass(frozen=True)
class OfferInstallments(Command): ...


@dataclass(frozen=True)
class EvaluateProposal(Command):
    """``answer``: the debtor's reply after the bot asked for the terms (the proposal form).

    When set it is evaluated instead of ``text`` and read as that answer: a bare
    "4 de 3000" means 4 installments of 3000 (``parse_proposal_answer``). ``terms``: terms
    already stated as values (the portal page's form), evaluated as they are.
    """

    answer: str | None = None
    terms: Proposal | None = None


@dataclass(frozen=True)
class AskProposalTerms(Command):
    """Ask the debtor for concrete terms; ``retry`` when the last answer was not understood."""

    retry: bool = False


@dataclass(frozen=True)
class ValidateProposalText(Command):
    """Check the answer to the terms question; ``attempt`` counts answers (1 = the first)."""

    attempt: int = 1


@dataclass(frozen=True)
class AcceptOffer(Command):
    """``intent``/``confidence``: the NLU's reading; anything but a clear "yes" (or the accept
    button of the current offer) is confirmed first (``bot/understanding/acceptance.py``)."""

    confidence: float = 1.0
    intent: str = "affirm"


@dataclass(frozen=True)
class RefuseOffer(Command): ...


@dataclass(frozen=True)
class Acknowledge(Command):
    intent: str = ""


@dataclass(frozen=True)
class RecordPromise(Command): ...


@dataclass(frozen=True)
class RecordAlreadyPaid(Command): ...


@dataclass(frozen=True)
class ReportHardship(Command): ...


@dataclass(frozen=True)
class HandOffToAgent(Command):
    intent: str = ""


@dataclass(frozen=True)
class OptOut(Command):
    """Without an opt-out keyword, an ``intent`` below the bar gets a confirmation question."""

    intent: str = "opt_out"
    confidence: float = 1.0


@dataclass(frozen=True)
class MarkWrongPerson(Command): ...


@dataclass(frozen=True)
class ExplainPaymentMethod(Command): ...


@dataclass(frozen=True)
class ScheduleCallback(Command): ...


@dataclass(frozen=True)
class DisclaimIdentity(Command): ...


@dataclass(frozen=True)
class DeclineOutOfScope(Command): ...


@dataclass(frozen=True)
class Clarify(Command): ...
