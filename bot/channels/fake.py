"""An in-memory ``Channel`` for tests: records sends, dedupes by idempotency key, fails on cue."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from bot.channels.base import (
    ChannelError,
    DeliveryReport,
    DeliveryState,
    InboundMessage,
    OutboundMessage,
    SendReceipt,
)


class FakeChannel:
    def __init__(self, name: str = "fake") -> None:
        self.name = name
        self.sent: list[OutboundMessage] = []
        self.attempts: list[OutboundMessage] = []
        self.failures: deque[ChannelError] = deque()
        self._ids: dict[str, str] = {}

    def fail_next(self, *errors: ChannelError) -> None:
        self.failures.extend(errors)

    def parse_inbound(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        if not payload.get("from") or not payload.get("id"):
            return None
        return InboundMessage(self.name, str(payload["from"]), str(payload.get("text", "")),
                              str(payload["id"]))

    async def send(self, message: OutboundMessage) -> SendReceipt:
        self.attempts.append(message)
        if self.failures:
            raise self.failures.popleft()
        if message.idempotency_key not in self._ids:
            self._ids[message.idempotency_key] = f"fake-{len(self._ids) + 1}"
            self.sent.append(message)
        return SendReceipt(self._ids[message.idempotency_key])

    def parse_status(self, payload: Mapping[str, Any]) -> DeliveryReport | None:
        if "id" not in payload or "status" not in payload:
            return None
        return DeliveryReport(str(payload["id"]), DeliveryState(str(payload["status"])))
