"""What an e-mail carries besides its text, composed when its outbox row is sent.

The outbox row holds the rendered text, the template's name and values and the locale (the
one outgoing path, ``bot/services/outgoing.py``). For an e-mail the dispatcher asks
:class:`MailComposer` for the rest, from the contact's creditor and conversation:

- the subject: template ``email_subject`` (editable like any template, per locale and
  channel), told which template the message is (``template``) and the creditor's name;
- the footer: template ``email_footer``, with the creditor's name and CNPJ (how to check
  the message is genuine) and the opt-out link;
- ``Reply-To``: ``<local>+<reply token>@<reply domain>``, naming the contact (its token under
  ``ACORDO_LINK_SECRET``; without the secret, the sender's own address);
- ``List-Unsubscribe`` (RFC 8058 one-click ``POST`` to ``ACORDO_PUBLIC_URL/u/<token>``, when
  both the public URL and the secret are set) and a ``mailto:`` alternative;
- ``In-Reply-To``/``References``: the debtor's last e-mail in the conversation, so replies
  stay in one thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from typing import Any

from sqlalchemy import select

from bot.channels.base import MailParts
from bot.channels.email_tokens import MailTokens
from bot.conversation.plain_values import decode
from bot.policies import PolicyBook
from bot.rendering.renderer import TemplateRenderer
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage
from bot.storage.uow import UnitOfWorkFactory

EMAIL = "email"


@dataclass(frozen=True)
class MailIdentity:
    """Who the e-mails come from and where replies and opt-outs go."""

    sender: Address
    reply_domain: str
    public_url: str | None = None
    tokens: MailTokens | None = None

    def reply_to(self, contact_id: int | None) -> str | None:
        if self.tokens is None or contact_id is None:
            return None
        local = self.sender.username.partition("+")[0]
        return f"{local}+{self.tokens.reply(contact_id)}@{self.reply_domain}"

    def unsubscribe_url(self, contact_id: int | None) -> str | None:
        if self.tokens is None or contact_id is None or not self.public_url:
            return None
        return f"{self.public_url.rstrip('/')}/u/{self.tokens.opt_out(contact_id)}"

    def unsubscribe_mailto(self, contact_id: int | None) -> str:
        local = self.sender.username.partition("+")[0]
        token = self.tokens.opt_out(contact_id) if self.tokens and contact_id else "sair"
        return f"mailto:{local}+{token}@{self.reply_domain}?subject=SAIR"


class MailComposer:
    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook, renderer: TemplateRenderer,
                 identity: MailIdentity) -> None:
        self._uow = uow
        self._policies = policies
        self._renderer = renderer
        self.identity = identity

    async def compose(self, row: OutboxMessage) -> MailParts:
        """Subject, footer and headers for the e-mail of ``row``."""
        creditor, last_id = await self._context(row.contact_id)
        locale = row.locale or self._renderer.default_locale
        values = _creditor_values(self._policies.get(creditor) if creditor else None)
        variables: Mapping[str, Any] = decode(row.template_vars or {})
        identity = self.identity
        subject = self._renderer.render(
            "email_subject", locale, {**variables, **values, "template": row.template or ""},
            channel=EMAIL)
        footer = self._renderer.render(
            "email_footer", locale,
            {**values, "unsubscribe_url": identity.unsubscribe_url(row.contact_id) or ""},
            channel=EMAIL)
        return MailParts(
            subject=subject, footer=footer, reply_to=identity.reply_to(row.contact_id),
            unsubscribe_url=identity.unsubscribe_url(row.contact_id),
            unsubscribe_mailto=identity.unsubscribe_mailto(row.contact_id),
            in_reply_to=last_id, references=(last_id,) if last_id else (),
            html_lang=self._renderer.resolve_locale(locale))

    async def _context(self, contact_id: int | None) -> tuple[str | None, str | None]:
        """The contact's creditor id and the ``Message-ID`` of its last e-mail to us."""
        if contact_id is None:
            return None, None
        async with self._uow() as uow:
            creditor = await uow.session.scalar(
                select(db.Debtor.creditor_id).join(db.Contact, db.Contact.debtor_id == db.Debtor.id)
                .where(db.Contact.id == contact_id))
            last = await uow.session.scalar(
                select(db.Message.provider_id)
                .join(db.Conversation, db.Conversation.id == db.Message.conversation_id)
                .where(db.Conversation.contact_id == contact_id, db.Message.direction == "in",
                       db.Message.channel == EMAIL, db.Message.provider_id.is_not(None))
                .order_by(db.Message.id.desc()).limit(1))
        return creditor, last


def _creditor_values(policy: Any) -> dict[str, str]:
    if policy is None:
        return {"creditor_name": "", "creditor_tax_id": ""}
    return {"creditor_name": policy.creditor.name, "creditor_tax_id": policy.creditor.tax_id}
