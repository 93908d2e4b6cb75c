"""Outbox rows keep template variables in the tagged JSON form every sender stores
(``{"$decimal": "6160.00"}``); a send gets them back as values, so a WhatsApp approved
template's content variables read ``6160.00`` whether the régua, the follow-up or an agent
queued the row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.conversation.plain_values import encode
from bot.services.outbox.dispatcher import _outbound
from bot.storage.channel_models import OutboxMessage


def test_a_send_decodes_the_stored_template_variables() -> None:
    variables = {"contact_name": "Ana", "balance": Decimal("6160.00"), "today": date(2026, 12, 7)}
    row = OutboxMessage(channel="whatsapp", address="+5511900000001", text="t", idempotency_key="k",
                        template="overdue_first", template_vars=encode(variables), locale="pt-BR")
    message = _outbound(row, None)
    assert message.template_vars == variables
    assert str(message.template_vars["balance"]) == "6160.00"
