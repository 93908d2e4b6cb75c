"""The built-in web chat channel as a ``Channel``.

Web replies are answered in the HTTP response of ``POST /channels/web/messages``, so
:meth:`WebChannel.send` only keeps messages in a per-address mailbox (for bot-initiated
messages the chat page could fetch later) and reports them delivered.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from bot.channels.base import (
    DeliveryReport,
    DeliveryState,
    InboundMessage,
    OutboundMessage,
    SendReceipt,
)


class WebChannel:
    name = "web"

    def __init__(self) -> None:
        self.mailbox: dict[str, list[OutboundMessage]] = defaultdict(list)
        self._sent: dict[str, str] = {}

    def parse_inbound(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        sender, text = payload.get("sender"), payload.get("text")
        if not isinstance(sender, str) or not sender or not isinstance(text, str):
            return None
        provider_id = str(payload.get("id") or uuid.uuid4().hex)
        return InboundMessage("web", sender, text, provider_id)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        if message.idempotency_key not in self._sent:
            self._sent[message.idempotency_key] = f"web-{uuid.uuid4().hex}"
            self.mailbox[message.address].append(message)
        return SendReceipt(self._sent[message.idempotency_key], DeliveryState.DELIVERED)

    def parse_status(self, payload: Mapping[str, Any]) -> DeliveryReport | None:
        return None
