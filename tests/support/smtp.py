"""A real SMTP server for the tests: ``aiosmtpd`` on a free local port, keeping what it got.

``SmtpSink`` records each accepted e-mail (envelope sender, recipients, the parsed message).
``refuse`` maps a recipient to an SMTP reply (``"550 5.1.1 no such user"``) to answer at
RCPT; ``fail_next`` answers the next DATA with a temporary failure.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes
    at: float = field(default_factory=time.monotonic)  # when the server accepted it


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    fail_next: list[str] = field(default_factory=list)
    connections: set[Any] = field(default_factory=set)  # the client (address, port) of each

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.connections.add(session.peer)
        if self.fail_next:
            return self.fail_next.pop(0)
        raw = bytes(envelope.original_content or envelope.content)
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    def __init__(self, idle_timeout: float = 300) -> None:
        """``idle_timeout``: the server closes a connection idle that long (seconds)."""
        self.handler = _Handler()
        self.port = free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                      timeout=idle_timeout)

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> SmtpSink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
