"""A régua reminder whose template shows {{ portal_link }} carries a new, stored portal link
(issued by ``reminder``) on WhatsApp; never by SMS; and reads well without a link secret."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.cadence.service import CadenceService
from bot.channels.web_links import PortalLinkSigner, token_hash
from bot.rendering.renderer import TemplateRenderer
from bot.services.portal_links import PortalLinkIssuer, use_portal_link
from bot.storage.channel_models import OutboxMessage
from bot.storage.portal_link_models import StoredPortalLink
from bot.storage.uow import unit_of_work
from tests.cadence.conftest import MONDAY, ROOT, Env, debtor

CHANNELS = {"web", "telegram", "whatsapp", "sms"}
SECRET = "cadence-portal-secret-0123456789"
BASE = "https://cobranca.example"


def cadence(env: Env, secret: str | None) -> CadenceService:
    signer = PortalLinkSigner(secret, env.clock) if secret else None
    issuer = PortalLinkIssuer(signer, BASE, timedelta(days=7))
    return CadenceService(unit_of_work(env.sessions), env.policies, TemplateRenderer(ROOT / "templates"),
                          env.clock, CHANNELS, portal_links=issuer)


async def load_two(env: Env) -> None:
    due = MONDAY - timedelta(days=7)  # day 7 of the gentle régua: overdue_offer on sms, whatsapp
    await env.load(debtor("wa", [("WA-1", "1000.00", due)], [("whatsapp", "+5511900000001")]),
                   debtor("sm", [("SM-1", "1000.00", due)], [("sms", "+5511900000002")]))


async def texts(env: Env) -> dict[str, str]:
    async with env.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.template == "overdue_offer"))
        return {row.channel: row.text for row in rows}


async def links(env: Env) -> list[StoredPortalLink]:
    async with env.sessions() as session:
        return list(await session.scalars(select(StoredPortalLink)))


async def test_a_whatsapp_reminder_carries_a_stored_link(env: Env) -> None:
    await load_two(env)
    service = cadence(env, SECRET)
    await service.schedule(MONDAY)
    assert await service.materialize() == 2
    sent = await texts(env)
    assert f"{BASE}/p/v1." in sent["whatsapp"] and "Veja as opções e as faturas" in sent["whatsapp"]
    assert "/p/" not in sent["sms"] and "Quer ver as opções?" in sent["sms"]
    [row] = await links(env)
    token = sent["whatsapp"].split(f"{BASE}/p/", 1)[1].split()[0]
    assert row.token_hash == token_hash(token) and row.issued_by == "reminder"
    signer = PortalLinkSigner(SECRET, env.clock)
    use = await use_portal_link(unit_of_work(env.sessions), signer, token, "page")
    assert use.link.debtor == "wa" and use.link.address.startswith("portal:")  # the contact's web twin


async def test_without_a_secret_the_reminder_reads_well_without_a_link(env: Env) -> None:
    await load_two(env)
    service = cadence(env, None)
    await service.schedule(MONDAY)
    assert await service.materialize() == 2
    sent = await texts(env)
    assert "/p/" not in sent["whatsapp"] and "Quer ver as opções? Para não receber" in sent["whatsapp"]
    assert await links(env) == []


async def test_a_template_without_the_link_issues_none(env: Env) -> None:
    due = MONDAY + timedelta(days=3)  # day -3: reminder_upcoming, which shows no link
    await env.load(debtor("up", [("UP-1", "1000.00", due)], [("whatsapp", "+5511900000003")]))
    service = cadence(env, SECRET)
    await service.schedule(MONDAY)
    assert await service.materialize() == 1
    assert await links(env) == []
