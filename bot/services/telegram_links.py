"""Linking a Telegram chat to a debtor contact by a one-time deep link (``/start <token>``).

The creditor issues a token for a debtor and a contact name (``acordo telegram
link-token`` or ``POST /api/v1/telegram/link-tokens``) and sends the person the link
``https://t.me/<bot>?start=<token>``. The chat that opens it becomes that contact's
Telegram address. A username is never trusted; only the SHA-256 of a token is stored;
a token works once (the same chat may repeat it harmlessly) and expires.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.conversation.outcome import Reply
from bot.services.audit_kinds import AuditKind
from bot.storage.repositories.errors import ContactConflict
from bot.storage.uow import UnitOfWorkFactory


class UnknownDebtor(LookupError):
    pass


@dataclass(frozen=True)
class IssuedLink:
    token: str
    expires_at: datetime

    def url(self, bot_username: str | None) -> str | None:
        return f"https://t.me/{bot_username}?start={self.token}" if bot_username else None


@dataclass(frozen=True)
class LinkResult:
    reply: Reply
    locale: str | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TelegramLinks:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 ttl: timedelta = timedelta(hours=72)) -> None:
        self._uow = uow
        self._clock = clock
        self._ttl = ttl

    async def issue(self, debtor_external_id: str, contact_name: str, *,
                    creditor_id: str | None = None, locale: str | None = None) -> IssuedLink:
        token = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]: a valid start parameter
        async with self._uow() as uow:
            debtor = await uow.portfolio.get_debtor(debtor_external_id, creditor_id)
            if debtor is None:
                raise UnknownDebtor(f"unknown debtor {debtor_external_id!r}")
            expires = self._clock.now() + self._ttl
            await uow.link_tokens.add(token_hash(token), debtor.id, contact_name, locale, expires)
            await uow.commit()
        return IssuedLink(token, expires)

    async def redeem(self, token: str, chat_id: str) -> LinkResult:
        """Link ``chat_id`` with the token's contact; the reply to send (never discloses a debt)."""
        async with self._uow() as uow:
            row = await uow.link_tokens.by_hash(token_hash(token))
            now = self._clock.now()
            if row is None or row.expires_at < now or (row.used_at and row.chat_id != chat_id):
                await uow.audit.record(
                    AuditKind.INBOUND_UNKNOWN_SENDER, "system",
                    data={"channel": "telegram", "address": chat_id, "reason": "invalid link token"})
                await uow.commit()
                return LinkResult(Reply("telegram_link_invalid"), None)
            debtor = await uow.portfolio.debtor_by_id(row.debtor_id)
            assert debtor is not None
            locale = row.locale or debtor.locale
            if row.used_at is None:
                try:
                    contact = await uow.portfolio.upsert_contact(debtor, row.contact_name, "telegram",
                                                                 chat_id, locale=row.locale)
                except ContactConflict:
                    await uow.rollback()
                    return LinkResult(Reply("telegram_link_invalid"), None)
                row.used_at, row.chat_id = now, chat_id
                await uow.audit.record(
                    AuditKind.TELEGRAM_LINKED, "system", debtor_id=debtor.id,
                    data={"contact_id": contact.id, "chat_id": chat_id, "name": row.contact_name})
                await uow.commit()
            first_name = row.contact_name.split(" ")[0]
            return LinkResult(Reply("telegram_linked", {"contact_name": first_name}), locale)
