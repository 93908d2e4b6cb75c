"""A channel-specific template an admin saved (template admin: name, locale, channel) is the
one every outgoing path uses on that channel: the régua, the follow-up and the bot's replies,
as the agent desk always did; other channels keep the template for every channel."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from bot.cadence.followup.service import FollowUpService
from bot.cadence.service import CadenceService
from bot.rendering.renderer import TemplateRenderer
from bot.services.conversation import ConversationService
from bot.services.payments import PaymentDesk
from bot.storage import models as db
from bot.storage.channel_models import OutboxMessage
from bot.storage.uow import unit_of_work
from tests.cadence.conftest import MONDAY, ROOT, Env, debtor
from tests.support.agreements import agree, at_local

CHANNELS = {"web", "telegram", "whatsapp", "sms"}


def whatsapp_renderer(name: str) -> TemplateRenderer:
    renderer = TemplateRenderer(ROOT / "templates")
    renderer.set_stored(name, "pt-BR", "WA-VERSION {{ debtor_name }}", channel="whatsapp")
    return renderer


async def outbox_texts(env: Env, template: str) -> dict[str, str]:
    async with env.sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.template == template))
        return {row.channel: row.text for row in rows}


async def test_the_regua_uses_the_whatsapp_version_on_whatsapp_only(env: Env) -> None:
    due = MONDAY + timedelta(days=3)  # day -3: reminder_upcoming on whatsapp, sms
    await env.load(debtor("wa", [("WA-1", "1000.00", due)], [("whatsapp", "+5511900000001")]),
                   debtor("sm", [("SM-1", "1000.00", due)], [("sms", "+5511900000002")]))
    cadence = CadenceService(unit_of_work(env.sessions), env.policies, whatsapp_renderer("reminder_upcoming"),
                             env.clock, CHANNELS)
    await cadence.schedule(MONDAY)
    assert await cadence.materialize() == 2
    texts = await outbox_texts(env, "reminder_upcoming")
    assert texts["whatsapp"] == "WA-VERSION Empresa wa"
    assert "WA-VERSION" not in texts["sms"]


async def test_the_followup_uses_the_whatsapp_version_on_whatsapp(env: Env) -> None:
    tuesday = MONDAY + timedelta(days=1)
    await env.load(debtor("fw", [("FW-1", "1000.00", date(2026, 12, 6))], [("whatsapp", "+5511900000003")]))
    await agree(env, "FW-1", [(tuesday, "500.00"), (date(2027, 1, 8), "500.00")])
    followup = FollowUpService(unit_of_work(env.sessions), env.policies,
                               whatsapp_renderer("installment_reminder"), env.clock, PaymentDesk({}))
    env.clock.moment = at_local(MONDAY, 12)
    assert (await followup.run(MONDAY)).messages == 1
    assert (await outbox_texts(env, "installment_reminder")) == {"whatsapp": "WA-VERSION Empresa fw"}


class _NoEngine:
    async def respond(self, *args: object) -> list[object]:
        raise AssertionError("an opt-out keyword never reaches the dialogue engine")


async def test_a_bot_reply_uses_the_whatsapp_version_on_whatsapp(env: Env) -> None:
    await env.load(debtor("bt", [("BT-1", "1000.00", date(2026, 12, 6))], [("whatsapp", "+5511900000004")]))
    renderer = TemplateRenderer(ROOT / "templates")
    renderer.set_stored("opt_out_confirmed", "pt-BR", "WA-VERSION saiu", channel="whatsapp")
    service = ConversationService(unit_of_work(env.sessions), _NoEngine(), renderer)  # type: ignore[arg-type]
    [reply] = await service.handle_inbound("whatsapp", "+5511900000004", "SAIR", "wamid-1")
    assert reply.text == "WA-VERSION saiu"
    async with env.sessions() as session:
        stored = await session.scalar(select(db.Message).where(db.Message.id == reply.message_id))
        assert stored is not None and stored.text == "WA-VERSION saiu"
