"""Leaving the e-mails in one click: ``/u/<token>`` (``List-Unsubscribe``, RFC 8058).

The token (``bot/channels/email_tokens.py``) names one contact; it is the only credential,
as the standard wants (mail providers post it without cookies). Opting out does what the
opt-out keywords do (``bot/services/opt_out.py`` ``suppress_contact``): the person is
suppressed on every channel, queued reminders are cancelled, one audit event is written.
A repeat finds the contact already out and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.channels.email_tokens import MailTokens
from bot.policies import PolicyBook
from bot.services.opt_out import suppress_contact
from bot.storage import models as db
from bot.storage.uow import UnitOfWorkFactory

Outcome = Literal["unknown", "opted_out", "already"]


@dataclass(frozen=True)
class OptOutTarget:
    """What the page may show: the creditor's name and the address masked."""

    creditor_name: str
    masked_address: str
    locale: str
    already: bool


def masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


class EmailOptOut:
    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook, tokens: MailTokens | None) -> None:
        self._uow = uow
        self._policies = policies
        self._tokens = tokens

    def _contact_id(self, token: str) -> int | None:
        return self._tokens.read_opt_out(token) if self._tokens is not None else None

    async def target(self, token: str) -> OptOutTarget | None:
        """The contact ``token`` names, as the page shows it; ``None`` for a bad token."""
        contact_id = self._contact_id(token)
        if contact_id is None:
            return None
        async with self._uow() as uow:
            contact = await uow.session.get(db.Contact, contact_id)
            if contact is None:
                return None
            debtor = await uow.session.get(db.Debtor, contact.debtor_id)
            assert debtor is not None
            policy = self._policies.get(debtor.creditor_id)
            return OptOutTarget(policy.creditor.name if policy else "", masked(contact.address),
                                contact.locale or debtor.locale,
                                contact.status == db.ContactStatus.OPTED_OUT.value)

    async def opt_out(self, token: str, how: str) -> Outcome:
        """Opt the contact out (``how``: ``one-click`` or ``page``, recorded in the audit)."""
        contact_id = self._contact_id(token)
        if contact_id is None:
            return "unknown"
        async with self._uow() as uow:
            contact = await uow.session.get(db.Contact, contact_id)
            if contact is None:
                return "unknown"
            changed = await suppress_contact(uow.session, contact, actor="email_unsubscribe",
                                             text=f"List-Unsubscribe ({how})")
            await uow.commit()
        return "opted_out" if changed else "already"
