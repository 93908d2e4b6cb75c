"""One stored e-mail, processed: a reply to answer, a bounce to apply, or traffic to record.

The IMAP poller (``bot/inbound/imap.py``) stores each fetched e-mail first
(``inbound_updates``, unique per ``Message-ID``), then this handler processes it once:

- **a debtor's reply** is matched to its contact — by the reply token of the plus address
  it was sent to (``cobranca+<token>@…``), else by ``In-Reply-To``/``References`` naming one
  of our e-mails, else by the sender's address — and goes down the same pipeline as a
  WhatsApp message (``ChannelInbox.receive``); its JPEG, PNG and PDF attachments within
  ``ACORDO_RECEIPT_MAX_BYTES`` go along as receipts (payment-claim evidence);
- **a bounce** (RFC 3464) is applied to the outbox row it names: hard marks the address
  unreachable (the régua falls back to the next channel), soft fails that e-mail only;
- **automatic replies, mailing-list traffic, no-reply senders and our own messages** are
  kept as the stored update and never answered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from sqlalchemy import select

from bot.channels.base import Receipt
from bot.channels.email_inbound import delivery_report, inbound_message, kind_of, parse_mail
from bot.channels.email_tokens import MailTokens
from bot.channels.receipts import RECEIPT_TYPES
from bot.services.inbound import ChannelInbox
from bot.services.outbox.queue import Outbox
from bot.services.update_claim import UpdateClaim
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage
from bot.storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)
EMAIL = "email"
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# The magic bytes of the receipts we keep: a declared type is not trusted alone.
_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n", "application/pdf": b"%PDF-"}


class EmailInbound:
    def __init__(self, uow: UnitOfWorkFactory, inbox: ChannelInbox, outbox: Outbox,
                 own_domain: str, tokens: MailTokens | None, max_bytes: int) -> None:
        self._uow = uow
        self._inbox = inbox
        self._outbox = outbox
        self._domain = own_domain.lower()
        self._tokens = tokens
        self._max = max_bytes

    async def handle(self, payload: Mapping[str, Any], claim: UpdateClaim) -> None:
        """The inbound update handler of the e-mail channel."""
        mail = parse_mail(payload)
        if mail is None:
            return
        kind = kind_of(mail, self._domain)
        if kind == "bounce":
            report = delivery_report(payload)
            if report is not None:
                await self._outbox.apply_report(report)
            return
        message = inbound_message(payload, own_domain=self._domain)
        if kind != "reply" or message is None:
            logger.info("e-mail %s kept, not answered (%s)", mail.get("Message-ID"), kind)
            return
        address = await self._contact_address(mail)
        if address is not None:
            message = replace(message, address=address)
        await self._inbox.receive(message, claim, receipts=self.receipts(mail))

    def receipts(self, mail: EmailMessage) -> list[Receipt]:
        """The attachments kept as receipts: accepted type (by its bytes too), within size."""
        kept = []
        for part in mail.iter_attachments():
            content_type = part.get_content_type()
            payload = part.get_payload(decode=True)
            if content_type not in RECEIPT_TYPES or not isinstance(payload, bytes):
                continue
            if len(payload) > self._max or not payload.startswith(_MAGIC[content_type]):
                logger.info("attachment skipped: %s, %d bytes", content_type, len(payload))
                continue
            kept.append(Receipt(content_type, payload))
        return kept

    async def _contact_address(self, mail: EmailMessage) -> str | None:
        """The address of the contact the reply belongs to (``None``: the sender's own)."""
        async with self._uow() as uow:
            for contact_id in self._token_contacts(mail):
                contact = await uow.session.get(db.Contact, contact_id)
                if contact is not None and contact.channel == EMAIL:
                    return contact.address
            ours = _MESSAGE_ID.findall(f"{mail.get('In-Reply-To', '')} {mail.get('References', '')}")
            if ours:
                address = await uow.session.scalar(
                    select(OutboxMessage.address).where(OutboxMessage.channel == EMAIL,
                                                        OutboxMessage.provider_id.in_(ours[-20:]))
                    .order_by(OutboxMessage.id.desc()).limit(1))
                if address:
                    return str(address)
        return None

    def _token_contacts(self, mail: EmailMessage) -> Sequence[int]:
        if self._tokens is None:
            return []
        headers = [str(v) for name in ("To", "Cc", "Delivered-To", "X-Original-To")
                   for v in mail.get_all(name, [])]
        found = []
        for _, address in getaddresses(headers):
            local, _, domain = address.partition("@")
            tag = local.partition("+")[2]
            if tag and domain.lower() == self._domain:
                contact_id = self._tokens.read_reply(tag)
                if contact_id is not None:
                    found.append(contact_id)
        return found
