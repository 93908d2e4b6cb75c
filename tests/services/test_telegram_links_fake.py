"""Telegram deep links on the in-memory unit of work: a token links one chat, once, in time.

No database: tests/channels/test_telegram*.py run the same flow over SQLite and the
Telegram emulator.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import FixedClock
from bot.services.audit_kinds import AuditKind
from bot.services.telegram_links import TelegramLinks, UnknownDebtor, token_hash
from tests.conftest import NOW
from tests.support.fake_uow import FakeStorage

CHAT = "424242"


def links() -> tuple[TelegramLinks, FakeStorage, FixedClock]:
    storage, clock = FakeStorage(), FixedClock(NOW)
    storage.portfolio.add_debtor("padaria", locale="pt-BR")
    return TelegramLinks(storage, clock, ttl=timedelta(hours=72)), storage, clock


async def test_a_token_links_the_chat_that_opens_it() -> None:
    service, storage, _ = links()
    issued = await service.issue("padaria", "Joana Silva", locale="en")
    assert issued.expires_at == NOW + timedelta(hours=72)
    assert issued.url("acordo_bot") == f"https://t.me/acordo_bot?start={issued.token}"
    assert issued.url(None) is None
    assert list(storage.link_tokens.tokens) == [token_hash(issued.token)]  # never the token
    result = await service.redeem(issued.token, CHAT)
    assert (result.reply.template, result.reply.variables, result.locale) == (
        "telegram_linked", {"contact_name": "Joana"}, "en")
    [contact] = storage.portfolio.contacts
    assert (contact.channel, contact.address, contact.name) == ("telegram", CHAT, "Joana Silva")
    assert storage.audit.kinds == [AuditKind.TELEGRAM_LINKED]
    assert storage.commits == 2


async def test_the_same_chat_may_repeat_a_token_and_no_other_chat_may_use_it() -> None:
    service, storage, _ = links()
    issued = await service.issue("padaria", "Joana")
    await service.redeem(issued.token, CHAT)
    again = await service.redeem(issued.token, CHAT)
    assert (again.reply.template, again.locale) == ("telegram_linked", "pt-BR")  # the debtor's
    assert len(storage.portfolio.contacts) == 1 and storage.audit.kinds == [AuditKind.TELEGRAM_LINKED]
    other = await service.redeem(issued.token, "999")
    assert (other.reply.template, other.locale) == ("telegram_link_invalid", None)
    assert storage.audit.events[-1].kind == AuditKind.INBOUND_UNKNOWN_SENDER
    assert storage.audit.events[-1].data["address"] == "999"


async def test_an_expired_or_unknown_token_links_nothing() -> None:
    service, storage, clock = links()
    issued = await service.issue("padaria", "Joana")
    clock.moment += timedelta(hours=72, seconds=1)
    for token in (issued.token, "never-issued"):
        result = await service.redeem(token, CHAT)
        assert result.reply.template == "telegram_link_invalid"
    assert storage.portfolio.contacts == []
    assert storage.audit.kinds == [AuditKind.INBOUND_UNKNOWN_SENDER] * 2


async def test_a_chat_that_is_another_debtors_contact_is_not_taken_over() -> None:
    service, storage, _ = links()
    other = storage.portfolio.add_debtor("mercado")
    await storage.portfolio.upsert_contact(other, "Rui", "telegram", CHAT)
    issued = await service.issue("padaria", "Joana")
    result = await service.redeem(issued.token, CHAT)
    assert result.reply.template == "telegram_link_invalid"
    assert storage.units[-1].rolled_back and not storage.units[-1].committed
    assert storage.link_tokens.tokens[token_hash(issued.token)].used_at is None


async def test_no_token_for_an_unknown_debtor() -> None:
    service, storage, _ = links()
    with pytest.raises(UnknownDebtor):
        await service.issue("nobody", "Joana")
    assert storage.link_tokens.tokens == {} and storage.commits == 0
