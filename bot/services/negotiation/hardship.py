"""The hardship path in the service: the reason recorded, and the words or intents that the
creditor's policy (``hardship:``) sends straight to a person.

The concession itself is the pure core's (``machine.Hardship``: one ladder step, under
``Limits.for_hardship`` from then on); this module only reads and records.
"""

from __future__ import annotations

from bot.conversation import commands as cmd
from bot.conversation.outcome import Reply
from bot.negotiation.offers import Limits
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.debtor_file import DebtorFile
from bot.understanding.hardship import hardship_category, mentions_any

HARDSHIP_INTENT = "financial_hardship"
# The debtor's own choices and claims that no handoff word overrides: opting out, the wrong
# person, "already paid" and a dispute keep their own paths.
_NEVER_HANDED_OFF = (cmd.OptOut, cmd.MarkWrongPerson, cmd.RecordAlreadyPaid)


def command_intent(command: cmd.Command) -> str:
    """The intent behind ``command`` (a hardship statement is ``financial_hardship``)."""
    if isinstance(command, cmd.ReportHardship):
        return HARDSHIP_INTENT
    return str(getattr(command, "intent", "") or "")


def hardship_handoff(file: DebtorFile, command: cmd.Command) -> str | None:
    """Why ``command`` goes straight to a person under the policy's ``hardship:`` keys, or
    ``None``: a handoff word anywhere (``hardship_keyword``), or a handoff intent in a
    hardship statement or once on the hardship path (``hardship_intent``)."""
    if isinstance(command, _NEVER_HANDED_OFF) or file.balance <= 0:
        return None
    if isinstance(command, cmd.HandOffToAgent) and command.intent == "dispute_debt":
        return None
    policy = file.policy.hardship
    if command.text and mentions_any(command.text, policy.handoff_keywords) is not None:
        return "hardship_keyword"
    on_path = isinstance(command, cmd.ReportHardship) or file.state.hardship
    if on_path and command_intent(command) in policy.handoff_intents:
        return "hardship_intent"
    return None


async def record_hardship(file: DebtorFile, text: str, *, handed_off: str | None = None) -> str:
    """Record the debtor's reason (text and coarse category); the category."""
    category = hardship_category(text)
    await file.uow.audit.record(
        AuditKind.HARDSHIP_REPORTED, "bot", debtor_id=file.debtor.id,
        conversation_id=file.conversation.id,
        data={"text": text[:500], "category": category, "handoff": handed_off},
    )
    return category


def acknowledgement(file: DebtorFile, category: str) -> Reply:
    return Reply("hardship_acknowledged", {**file.common, "category": category})


def hardship_limits(file: DebtorFile) -> Limits:
    return Limits.for_hardship(file.profile, file.policy.hardship)
