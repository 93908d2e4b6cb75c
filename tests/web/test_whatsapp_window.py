"""The agent console on WhatsApp: outside the 24-hour window only the approved templates of
``ACORDO_WHATSAPP_TEMPLATES`` are offered (and go out by Content SID); inside it, free text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FixedClock
from bot.devtools.emulators.twilio import TwilioEmulator
from bot.services.staff_accounts import StaffAccounts
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.portfolio import PortfolioRepository
from tests.conftest import ADMIN_TOKEN, NOW, make_settings
from tests.support.lifespan import lifespan
from tests.web.conftest import PASSWORD, ResumableDialogue, Site, csrf_of, login

PHONE = "+5511988887777"
SID_PT = "HX" + "a" * 32
SID_EN = "HX" + "b" * 32
TEMPLATES: dict[str, Any] = {
    "overdue_first": {"pt-BR": {"sid": SID_PT, "variables": ["contact_name", "balance"]}},
    "reminder_upcoming": {"en": SID_EN},  # another locale: not offered to a pt-BR debtor
}


@pytest.fixture
def whatsapp_templates() -> dict[str, Any]:
    return TEMPLATES


@pytest.fixture
async def twilio() -> AsyncIterator[TwilioEmulator]:
    emulator = TwilioEmulator()
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
async def wa_site(tmp_path: Path, twilio: TwilioEmulator,
                  whatsapp_templates: dict[str, Any]) -> AsyncIterator[Site]:
    settings = make_settings(
        tmp_path, twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
        twilio_api_url=twilio.base_url, twilio_whatsapp_from="+5511900000001",
        outbox_in_app=False, channel_send_timeout_seconds=1,
        whatsapp_templates=whatsapp_templates)
    dialogue = ResumableDialogue()
    app = create_app(settings, clock=FixedClock(NOW), dialogue=dialogue)
    async with lifespan(app) as manager:
        site = Site(app, manager.app, dialogue)
        site.container.staff = StaffAccounts(
            site.container.uow, site.container.clock,
            hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
        await site.container.staff.add_user("alice", "agent", PASSWORD)
        yield site


async def whatsapp_conversation(site: Site, last_inbound_hours_ago: float | None) -> str:
    """A WhatsApp debtor handed to a person, whose last message was that long ago."""
    body = {"creditor": "demo", "debtors": [{
        "external_id": "deb-wa", "name": "Padaria Sol Ltda", "tax_id": "11.444.777/0001-61",
        "locale": "pt-BR", "contacts": [{"name": "Ana Souza", "channel": "whatsapp", "address": PHONE}],
        "debts": [{"external_id": "NF-7", "amount": "6000.00", "currency": "BRL",
                   "due_date": "2026-11-06", "description": "NF 7"}]}]}
    async with site.client() as http:
        response = await http.post("/api/v1/portfolio", json=body,
                                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status_code == 200, response.text
    async with site.container.sessions() as session:
        contact = await PortfolioRepository(session).find_contact("whatsapp", PHONE)
        assert contact is not None
        conversations = ConversationRepository(session)
        conversation = await conversations.get_or_create(contact)
        await conversations.set_state(conversation, "human", "asked_for_human")
        conversation.last_inbound_at = (None if last_inbound_hours_ago is None
                                        else NOW - timedelta(hours=last_inbound_hours_ago))
        await session.commit()
        return conversation.public_id


@asynccontextmanager
async def taken(site: Site, public_id: str) -> AsyncIterator[httpx.AsyncClient]:
    """Alice, signed in, holding the conversation."""
    async with site.client() as http:
        assert (await login(http, "alice", PASSWORD)).status_code == 303
        page = await http.get(f"/agent/c/{public_id}")
        await http.post(f"/agent/c/{public_id}/take", data={"csrf_token": csrf_of(page.text)})
        yield http


async def outbox(site: Site) -> list[OutboxMessage]:
    async with site.container.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_window_closed_lists_the_templates_and_refuses_free_text(wa_site: Site) -> None:
    public_id = await whatsapp_conversation(wa_site, last_inbound_hours_ago=25)
    async with taken(wa_site, public_id) as http:
        page = (await http.get(f"/agent/c/{public_id}")).text
        assert 'id="template-form"' in page and 'id="reply-form"' not in page
        assert 'value="overdue_first"' in page and SID_PT in page
        assert "reminder_upcoming" not in page and SID_EN not in page
        assert "Ana" in page and "6.000,00" in page  # the preview uses the debtor's data
        refused = await http.post(f"/agent/c/{public_id}/reply",
                                  data={"csrf_token": csrf_of(page), "text": "oi Ana"})
        error = httpx.URL(refused.headers["location"]).params["error"]
        assert refused.status_code == 303 and "24-hour" in error
        forged = await http.post(f"/agent/c/{public_id}/template", data={"name": "overdue_first"})
        assert forged.status_code == 403
        unknown = await http.post(f"/agent/c/{public_id}/template",
                                  data={"csrf_token": csrf_of(page), "name": "reminder_upcoming"})
        assert "error=" in unknown.headers["location"]
    assert await outbox(wa_site) == []


async def test_the_window_is_closed_at_exactly_24_hours(wa_site: Site) -> None:
    public_id = await whatsapp_conversation(wa_site, last_inbound_hours_ago=24)
    async with taken(wa_site, public_id) as http:
        page = (await http.get(f"/agent/c/{public_id}")).text
        assert 'id="template-form"' in page and 'id="reply-form"' not in page
        refused = await http.post(f"/agent/c/{public_id}/reply",
                                  data={"csrf_token": csrf_of(page), "text": "oi Ana"})
        assert "24-hour" in httpx.URL(refused.headers["location"]).params["error"]
    assert await outbox(wa_site) == []


async def test_no_inbound_at_all_counts_as_closed(wa_site: Site) -> None:
    public_id = await whatsapp_conversation(wa_site, last_inbound_hours_ago=None)
    async with taken(wa_site, public_id) as http:
        page = (await http.get(f"/agent/c/{public_id}")).text
        assert 'id="template-form"' in page and 'id="reply-form"' not in page


async def test_sending_a_template_goes_by_content_sid(wa_site: Site, twilio: TwilioEmulator) -> None:
    public_id = await whatsapp_conversation(wa_site, last_inbound_hours_ago=30)
    async with taken(wa_site, public_id) as http:
        page = (await http.get(f"/agent/c/{public_id}")).text
        sent = await http.post(f"/agent/c/{public_id}/template",
                               data={"csrf_token": csrf_of(page), "name": "overdue_first"})
        assert "msg=" in sent.headers["location"], sent.headers["location"]
    [row] = await outbox(wa_site)
    assert row.channel == "whatsapp" and row.template == "overdue_first"
    assert row.template_vars and row.template_vars["contact_name"] == "Ana"
    async with wa_site.container.sessions() as session:
        message = await session.get(db.Message, row.message_id)
        events = list(await session.scalars(select(db.AuditEvent).where(
            db.AuditEvent.kind == "agent_reply")))
    assert message is not None and message.author == "agent" and message.template == "overdue_first"
    assert "Ana" in message.text
    [event] = events
    assert event.actor == "agent:alice" and event.data["template"] == "overdue_first"
    assert event.data["content_sid"] == SID_PT
    # The outbox sends it through Twilio by Content SID, not as free text.
    await wa_site.container.channels.new_dispatcher(backoff_base=0.01, poll_interval=0.01).run_until_idle()
    [delivery] = twilio.deliveries
    assert delivery.params["ContentSid"] == SID_PT and "Body" not in delivery.params
    assert delivery.params["ContentVariables"] == '{"1": "Ana", "2": "6160.00"}'  # balance with charges


async def test_window_open_keeps_the_free_text_box(wa_site: Site) -> None:
    public_id = await whatsapp_conversation(wa_site, last_inbound_hours_ago=2)
    async with taken(wa_site, public_id) as http:
        page = (await http.get(f"/agent/c/{public_id}")).text
        assert 'id="reply-form"' in page and 'id="template-form"' not in page
        assert "window is closed" not in page
        sent = await http.post(f"/agent/c/{public_id}/reply",
                               data={"csrf_token": csrf_of(page), "text": "Olá Ana!"})
        assert "msg=" in sent.headers["location"], sent.headers["location"]
    [row] = await outbox(wa_site)
    assert row.channel == "whatsapp" and row.text == "Olá Ana!" and row.template is None


async def test_free_text_inside_the_window_reaches_twilio(wa_site: Site, twilio: TwilioEmulator) -> None:
    public_id = await whatsapp_conversation(wa_site, last_inbound_hours_ago=2)
    async with taken(wa_site, public_id) as http:
        page = (await http.get(f"/agent/c/{public_id}")).text
        await http.post(f"/agent/c/{public_id}/reply",
                        data={"csrf_token": csrf_of(page), "text": "Olá Ana!"})
    await wa_site.container.channels.new_dispatcher(backoff_base=0.01, poll_interval=0.01).run_until_idle()
    [delivery] = twilio.deliveries
    assert delivery.params["Body"] == "Olá Ana!" and "ContentSid" not in delivery.params


class TestNoTemplateConfigured:
    @pytest.fixture
    def whatsapp_templates(self) -> dict[str, Any]:
        return {}

    async def test_the_page_says_so(self, wa_site: Site) -> None:
        public_id = await whatsapp_conversation(wa_site, last_inbound_hours_ago=25)
        async with taken(wa_site, public_id) as http:
            page = (await http.get(f"/agent/c/{public_id}")).text
        assert 'id="no-templates"' in page and "No approved WhatsApp template" in page
        assert 'id="reply-form"' not in page and 'id="template-form"' not in page
