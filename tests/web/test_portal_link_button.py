"""The agent console's "Enviar link do portal / Send portal link": the agent who holds the
conversation sends a new stored link (issued by agent:<name>) through the outgoing path, with
CSRF and the holder's rights like every console action; without a secret, a polite error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.app import create_app
from bot.channels.web_links import token_hash
from bot.clock import FixedClock
from bot.services.staff_accounts import StaffAccounts
from bot.storage.models import AuditEvent
from bot.storage.portal_link_models import StoredPortalLink
from tests.conftest import NOW, make_settings
from tests.support.agent_console import ADDRESS, post
from tests.support.lifespan import lifespan
from tests.web.conftest import PASSWORD, ResumableDialogue, Site, csrf_of

SECRET = "console-portal-secret-0123456789"


@pytest.fixture
async def linked(tmp_path: Path) -> AsyncIterator[Site]:
    dialogue = ResumableDialogue()
    settings = make_settings(tmp_path, link_secret=SECRET)  # links point at the server itself
    app = create_app(settings, clock=FixedClock(NOW), dialogue=dialogue)
    async with lifespan(app) as manager:
        site = Site(app, manager.app, dialogue)
        site.container.staff = StaffAccounts(
            site.container.uow, site.container.clock,
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        for name in ("alice", "bruno"):
            await site.container.staff.add_user(name, "agent", PASSWORD)
        yield site


async def stored_links(site: Site) -> list[StoredPortalLink]:
    async with site.container.sessions() as session:
        return list(await session.scalars(select(StoredPortalLink)))


async def test_the_holder_sends_a_portal_link(linked: Site) -> None:
    public_id = await linked.waiting_conversation()
    async with linked.signed_in("alice") as http:
        before = await http.get(f"/agent/c/{public_id}")
        assert 'id="portal-link"' not in before.text  # not taken yet
        await post(http, public_id, "take")
        page = await http.get(f"/agent/c/{public_id}")
        assert ">Send portal link</button>" in page.text  # the English session's label
        sent = await post(http, public_id, "portal-link")
        assert "msg=Portal" in sent.headers["location"]
    async with linked.debtor_client() as debtor:
        polled = (await debtor.get("/channels/web/messages", params={"sender": ADDRESS})).json()
    [message] = polled["messages"]
    assert message["author"] == "agent" and "/p/v1." in message["text"]
    token = message["text"].split("/p/", 1)[1].split()[0]
    [row] = await stored_links(linked)
    assert (row.issued_by, row.token_hash) == ("agent:alice", token_hash(token))
    async with linked.client() as anyone:
        assert (await anyone.get(f"/p/{token}")).status_code == 200
    async with linked.container.sessions() as session:
        events = list(await session.scalars(select(AuditEvent).where(
            AuditEvent.kind.in_(["portal_link_issued", "agent_reply"])).order_by(AuditEvent.id)))
    assert [(e.kind, e.actor, e.data.get("link")) for e in events] == [
        ("portal_link_issued", "agent:alice", row.id), ("agent_reply", "agent:alice", row.id)]
    assert token not in repr([e.data for e in events])


async def test_csrf_and_the_holder_are_required(linked: Site) -> None:
    public_id = await linked.waiting_conversation()
    async with linked.signed_in("alice") as alice, linked.signed_in("bruno") as bruno:
        await post(alice, public_id, "take")
        forged = await alice.post(f"/agent/c/{public_id}/portal-link", data={"csrf_token": "nope"})
        assert forged.status_code == 403
        refused = await post(bruno, public_id, "portal-link")
        assert "error=taken" in refused.headers["location"]
    async with linked.client() as anonymous:
        response = await anonymous.post(f"/agent/c/{public_id}/portal-link", data={})
        assert response.status_code == 303 and "/login" in response.headers["location"]
    assert await stored_links(linked) == []


async def test_without_a_secret_the_agent_is_told(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        await post(http, public_id, "take")
        page = await http.get(f"/agent/c/{public_id}")
        response = await http.post(f"/agent/c/{public_id}/portal-link",
                                   data={"csrf_token": csrf_of(page.text)})
        assert response.status_code == 303 and "ACORDO_LINK_SECRET" in response.headers["location"]
    assert await stored_links(site) == []
