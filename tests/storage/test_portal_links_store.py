"""Stored portal links on SQLite and PostgreSQL: issue → use → revoke → refused, expiry,
forgery, one debtor's token never opens another's, concurrent uses all counted, and the
raw token never at rest."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.web_links import InvalidLink, PortalLinkSigner, token_hash
from bot.clock import FixedClock
from bot.services.portal_links import (
    debtor_portal_links,
    issue_portal_link,
    revoke_portal_link,
    use_portal_link,
)
from bot.storage import PortfolioRepository
from bot.storage.models import AuditEvent, Base
from bot.storage.portal_link_models import StoredPortalLink
from bot.storage.uow import unit_of_work
from tests.storage.conftest import NOW
from tests.storage.factories import debtor

SECRET = "storage-portal-secret-0123456789"
WEEK = timedelta(days=7)
Sessions = async_sessionmaker[AsyncSession]


async def two_debtors(sessions: Sessions) -> None:
    async with sessions() as session:
        portfolio = PortfolioRepository(session)
        for external_id, address in (("acme", "rita@acme.example"), ("beta", "joe@beta.example")):
            owner = await debtor(session, external_id)
            await portfolio.upsert_contact(owner, external_id.title(), "web", address)
        await session.commit()


@pytest.fixture
async def clock(sessions: Sessions) -> FixedClock:
    await two_debtors(sessions)
    return FixedClock(NOW)


def signer(clock: FixedClock, secret: str = SECRET) -> PortalLinkSigner:
    return PortalLinkSigner(secret, clock)


async def stored(sessions: Sessions) -> list[StoredPortalLink]:
    async with sessions() as session:
        return list(await session.scalars(select(StoredPortalLink).order_by(StoredPortalLink.id)))


async def audit(sessions: Sessions, kind: str) -> list[AuditEvent]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)
                                          .order_by(AuditEvent.id)))


async def test_issue_use_revoke_and_refused(sessions: Sessions, clock: FixedClock) -> None:
    uow = unit_of_work(sessions)
    issued = await issue_portal_link(uow, signer(clock), "acme", WEEK, issued_by="api")
    use = await use_portal_link(uow, signer(clock), issued.token, "page")
    assert (use.link_id, use.link.debtor, use.link.address) == (issued.id, "acme", "rita@acme.example")
    clock.moment = NOW + timedelta(hours=1)
    await use_portal_link(uow, signer(clock), issued.token, "chat")
    await use_portal_link(uow, signer(clock), issued.token, "poll")  # a poll is not a use
    [row] = await stored(sessions)
    assert (row.use_count, row.last_used_at, row.issued_by, row.issued_at, row.expires_at) == (
        2, NOW + timedelta(hours=1), "api", NOW, NOW + WEEK)
    used = await audit(sessions, "portal_link_used")
    assert [(e.actor, e.data) for e in used] == [("portal", {"link": issued.id, "via": "page"}),
                                                 ("portal", {"link": issued.id, "via": "chat"})]

    assert await revoke_portal_link(uow, issued.id, "agent:ana", NOW + timedelta(hours=2)) is True
    assert await revoke_portal_link(uow, issued.id, "agent:bob", NOW + timedelta(hours=3)) is True
    assert await revoke_portal_link(uow, issued.id + 99, "admin", NOW) is False
    with pytest.raises(InvalidLink, match="revoked"):
        await use_portal_link(uow, signer(clock), issued.token, "page")
    [row] = await stored(sessions)
    assert (row.revoked_at, row.revoked_by, row.use_count) == (NOW + timedelta(hours=2), "agent:ana", 2)
    assert len(await audit(sessions, "portal_link_revoked")) == 1
    [listed] = await debtor_portal_links(uow, "acme")
    assert (listed.id, listed.issued_by, listed.revoked_by, listed.use_count) == (
        issued.id, "api", "agent:ana", 2)


async def test_a_new_link_does_not_revoke_the_older_ones(sessions: Sessions, clock: FixedClock) -> None:
    uow = unit_of_work(sessions)
    first = await issue_portal_link(uow, signer(clock), "acme", WEEK)
    second = await issue_portal_link(uow, signer(clock), "acme", WEEK)
    assert first.token != second.token and first.id != second.id
    for issued in (first, second):
        assert (await use_portal_link(uow, signer(clock), issued.token, "page")).link_id == issued.id
    assert [link.id for link in await debtor_portal_links(uow, "acme")] == [first.id, second.id]


async def test_expired_forged_unknown_and_other_secret_are_refused(sessions: Sessions,
                                                                   clock: FixedClock) -> None:
    uow = unit_of_work(sessions)
    issued = await issue_portal_link(uow, signer(clock), "acme", timedelta(days=1))
    _, payload, signature = issued.token.split(".")
    beta = await issue_portal_link(uow, signer(clock), "beta", WEEK)
    forged = f"v1.{beta.token.split('.')[1]}.{signature}"
    # e.g. a token issued before links were stored:
    unstored, _ = signer(clock).issue("demo", "acme", "rita@acme.example", WEEK)
    other, _ = signer(clock, "another-secret-0123456789").issue("demo", "acme", "rita@acme.example", WEEK)
    for token, reason in ((forged, "invalid"), (unstored, "invalid"), (other, "invalid"),
                          (f"v1.{payload}", "invalid")):
        with pytest.raises(InvalidLink, match=reason):
            await use_portal_link(uow, signer(clock), token, "page")
    clock.moment = NOW + timedelta(days=1)
    with pytest.raises(InvalidLink, match="expired"):
        await use_portal_link(uow, signer(clock), issued.token, "page")
    assert [row.use_count for row in await stored(sessions)] == [0, 0]
    assert await audit(sessions, "portal_link_used") == []


async def test_a_token_of_one_debtor_never_opens_another(sessions: Sessions, clock: FixedClock) -> None:
    uow = unit_of_work(sessions)
    acme = await issue_portal_link(uow, signer(clock), "acme", WEEK)
    beta = await issue_portal_link(uow, signer(clock), "beta", WEEK)
    for issued, external_id, address in ((acme, "acme", "rita@acme.example"),
                                         (beta, "beta", "joe@beta.example")):
        use = await use_portal_link(uow, signer(clock), issued.token, "page")
        assert (use.link.debtor, use.link.address, use.link_id) == (external_id, address, issued.id)
    # The contact moves to the other debtor: the link no longer opens.
    async with sessions() as session:
        await session.execute(text("UPDATE contacts SET debtor_id = (SELECT id FROM debtors WHERE "
                                   "external_id = 'beta') WHERE address = 'rita@acme.example'"))
        await session.commit()
    with pytest.raises(InvalidLink, match="unbound"):
        await use_portal_link(uow, signer(clock), acme.token, "page")


async def test_concurrent_uses_are_all_counted(sessions: Sessions, clock: FixedClock) -> None:
    uow = unit_of_work(sessions)
    issued = await issue_portal_link(uow, signer(clock), "acme", WEEK)
    await asyncio.gather(*(use_portal_link(uow, signer(clock), issued.token, "chat") for _ in range(12)))
    [row] = await stored(sessions)
    assert row.use_count == 12


async def test_the_raw_token_is_never_at_rest(sessions: Sessions, clock: FixedClock) -> None:
    uow = unit_of_work(sessions)
    issued = [await issue_portal_link(uow, signer(clock), who, WEEK, issued_by=by)
              for who, by in (("acme", "cli"), ("beta", "reminder"), ("acme", "agent:ana"))]
    for link in issued:
        await use_portal_link(uow, signer(clock), link.token, "page")
        await use_portal_link(uow, signer(clock), link.token, "chat")
    await revoke_portal_link(uow, issued[0].id, "admin", NOW)
    dump = []
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in await session.execute(select(table))]
    everything = "\n".join(dump)
    assert "portal_link_used" in everything and "rita@acme.example" in everything  # the dump works
    for link in issued:
        assert link.token not in everything
        assert link.token.split(".")[2] not in everything  # not even its signature
        assert token_hash(link.token) in everything
