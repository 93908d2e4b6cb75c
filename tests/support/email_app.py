"""The app with e-mail on, in process, against a real SMTP server (``aiosmtpd``): the tests of
e-mail opt-out and replies share it. ``EmailApp.send_one`` queues a message to the e-mail
contact through the one outgoing path and dispatches it; it answers the e-mail sent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bot.app import create_app
from bot.bootstrap import Container
from bot.clock import FixedClock
from bot.conversation.outcome import Reply
from bot.services.outgoing import OutgoingMessages
from bot.storage import models as db
from bot.storage.channel_models import Initiator
from tests.conftest import ADMIN_TOKEN, NOW, ScriptedDialogue, make_settings
from tests.support.lifespan import lifespan
from tests.support.smtp import SmtpSink

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SENDER = "Distribuidora Exemplo <cobranca@exemplo.com.br>"


@dataclass
class EmailApp:
    http: httpx.AsyncClient
    container: Container
    sink: SmtpSink

    async def contact(self, channel: str = "email") -> db.Contact:
        async with self.container.sessions() as session:
            found = await session.scalar(select(db.Contact).where(db.Contact.channel == channel))
            assert found is not None
            return found

    async def send_one(self, key: str = "test:{index}") -> EmailMessage:
        """Queue a message to the e-mail contact and dispatch it; the e-mail the server got."""
        contact = await self.contact()
        async with self.container.uow() as uow:
            loaded = await uow.session.get(db.Contact, contact.id)
            assert loaded is not None
            await OutgoingMessages(self.container.renderer).queue(
                uow, loaded, [Reply("raw_text", {"text": "Olá, Marta! A NF-1 está em aberto."})],
                key, Initiator.BOT)
            await uow.commit()
        await self.container.channels.new_dispatcher(late_tolerance=None).run_until_idle(max_wait=5)
        return self.sink.received[-1].message

    async def rows(self, model: Any) -> list[Any]:
        async with self.container.sessions() as session:
            return list(await session.scalars(select(model).order_by(model.id)))


async def open_email_app(tmp_path: Path, portfolio: dict[str, Any], secret: str
                         ) -> AsyncIterator[EmailApp]:
    sink = SmtpSink().start()
    settings = make_settings(tmp_path, link_secret=secret, public_url="http://test",
                             smtp_host="127.0.0.1", smtp_port=sink.port, smtp_security="none",
                             smtp_from=SENDER, outbox_in_app=False)
    application = create_app(settings, clock=FixedClock(NOW), dialogue=ScriptedDialogue())
    try:
        async with lifespan(application) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                loaded = await http.post("/api/v1/portfolio", json=portfolio, headers=ADMIN)
                assert loaded.status_code == 200, loaded.text
                yield EmailApp(http, application.state.container, sink)
    finally:
        sink.stop()
