"""Everything one command needs about the debtor behind a conversation, loaded at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.negotiation import machine
from bot.negotiation.balance import DebtPosition, balance_on, days_past_due
from bot.policies import PolicyBook
from bot.policies.models import NegotiationProfile, Policy
from bot.storage import models as db
from bot.storage.uow import UnitOfWork


@dataclass
class DebtorFile:
    """Everything one command needs about the debtor behind a conversation, with the unit of
    work the command runs in (``uow``: its repositories write in the same transaction)."""

    uow: UnitOfWork
    conversation: db.Conversation
    contact: db.Contact
    debtor: db.Debtor
    policy: Policy
    today: date
    debts: list[db.Debt]
    balance: Decimal
    profile: NegotiationProfile
    state: machine.NegotiationState

    @property
    def common(self) -> dict[str, Any]:
        return {
            "creditor_name": self.policy.creditor.name,
            "debtor_name": self.debtor.name,
            "contact_name": (self.contact.name or "").split(" ")[0],
        }


async def load_debtor_file(uow: UnitOfWork, conversation_id: str, policies: PolicyBook,
                           clock: Clock) -> DebtorFile | None:
    """The debtor file of a conversation (by its public id); ``None`` for an unknown one."""
    conversation = await uow.conversations.by_public_id(conversation_id)
    if conversation is None:
        return None
    contact = conversation.contact
    debtor = contact.debtor
    policy = policies[debtor.creditor_id]
    zone = ZoneInfo(contact.timezone or debtor.timezone or policy.creditor.timezone)
    today = clock.now().astimezone(zone).date()
    debts = await uow.portfolio.debts_for(debtor.id, statuses=("open",))
    positions = [
        DebtPosition(external_id=d.external_id, principal=d.amount, due_date=d.due_date,
                     paid=d.paid_amount)
        for d in debts
    ]
    balance = sum((balance_on(p, today, policy.charges) for p in positions), Decimal("0.00"))
    worst = max((days_past_due(p.due_date, today) for p in positions), default=0)
    state = (
        machine.NegotiationState.model_validate(conversation.negotiation)
        if conversation.negotiation
        else machine.NegotiationState()
    )
    return DebtorFile(uow, conversation, contact, debtor, policy, today, debts, balance,
                      policy.profile_for(worst, balance), state)
