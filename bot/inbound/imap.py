"""Fetching e-mail from the creditor's IMAP mailbox (``aioimaplib``), stored before processed.

Configured by ``ACORDO_IMAP_*``. Each round logs in, selects the mailbox and fetches every
unseen message with ``BODY.PEEK[]`` (reading it does not mark it seen). Each one is stored
first (``inbound_updates``, unique per ``Message-ID``), then marked ``\\Seen``, then processed
in the background by the e-mail handler (``bot/services/email_inbound.py``):

- a crash before the store leaves the message unseen: the next round fetches it again;
- a crash after the store and before ``\\Seen``: the next round stores nothing new (the same
  ``Message-ID``) and marks it seen;
- a crash after the store and before processing: the start's resume processes it.

So a message is processed once and survives a restart between fetch and processing. Between
rounds the poller waits in IMAP ``IDLE`` when the server offers it (woken by new mail) and
otherwise sleeps ``ACORDO_IMAP_POLL_SECONDS``. A server that is down is retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from typing import Literal

import aioimaplib

from bot.services.inbound import InboundProcessor

logger = logging.getLogger(__name__)
KEY_MAX_CHARS = 128  # inbound_updates.provider_key
MAX_BYTES = 25 * 1024 * 1024  # a larger e-mail is skipped (logged) and marked seen


@dataclass(frozen=True)
class ImapMailbox:
    host: str
    port: int
    user: str
    password: str
    security: Literal["tls", "none"] = "tls"  # IMAPS (993), or plain for a local server
    mailbox: str = "INBOX"
    timeout: float = 30.0
    tls_context: ssl.SSLContext | None = None


def message_key(raw: bytes) -> str:
    """The update's key: its ``Message-ID``, else a digest of the whole message."""
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    found = str(headers.get("Message-ID", "")).strip()
    if found and len(found) <= KEY_MAX_CHARS:
        return found
    return "sha256:" + hashlib.sha256(found.encode() if found else raw).hexdigest()


class ImapPoller:
    def __init__(self, mailbox: ImapMailbox, inbound: InboundProcessor,
                 poll_seconds: float = 60.0) -> None:
        self._mailbox = mailbox
        self._inbound = inbound
        self._poll = poll_seconds
        self.stats = {"fetched": 0, "stored": 0, "duplicates": 0, "skipped": 0}

    async def _connect(self) -> aioimaplib.IMAP4:
        box = self._mailbox
        client: aioimaplib.IMAP4
        if box.security == "tls":
            client = aioimaplib.IMAP4_SSL(box.host, box.port, timeout=box.timeout,
                                          ssl_context=box.tls_context)
        else:
            client = aioimaplib.IMAP4(box.host, box.port, timeout=box.timeout)
        await client.wait_hello_from_server()
        login = await client.login(box.user, box.password)
        if login.result != "OK":
            raise ConnectionError(f"IMAP login refused for {box.user}")
        selected = await client.select(box.mailbox)
        if selected.result != "OK":
            raise ConnectionError(f"IMAP mailbox {box.mailbox!r} cannot be selected")
        return client

    async def fetch_once(self) -> int:
        """One round: store, mark seen and hand over every unseen message; how many were new."""
        client = await self._connect()
        try:
            return await self._round(client)
        finally:
            with contextlib.suppress(Exception):
                await client.logout()

    async def _round(self, client: aioimaplib.IMAP4) -> int:
        found = await client.uid_search("UNSEEN")
        uids = [uid for line in found.lines[:1] for uid in line.split() if uid.isdigit()]
        new = 0
        for uid in (u.decode() for u in uids):
            raw = await self._fetch(client, uid)
            self.stats["fetched"] += 1
            if raw is None:
                self.stats["skipped"] += 1
            else:
                stored = await self._inbound.store("email", message_key(raw),
                                                   {"raw": raw.decode("utf-8", "replace")})
                if stored is None:
                    self.stats["duplicates"] += 1
                else:
                    self.stats["stored"] += 1
                    new += 1
                    self._inbound.process_later(stored)
            await client.uid("store", uid, "+FLAGS", "(\\Seen)")
        return new

    async def _fetch(self, client: aioimaplib.IMAP4, uid: str) -> bytes | None:
        response = await client.uid("fetch", uid, "(RFC822.SIZE BODY.PEEK[])")
        if response.result != "OK":
            return None
        for line in response.lines:
            if isinstance(line, bytearray):
                if len(line) > MAX_BYTES:
                    logger.warning("e-mail uid %s skipped: %d bytes", uid, len(line))
                    return None
                return bytes(line)
        return None

    async def run(self, stop: asyncio.Event) -> None:
        """Fetch until ``stop``: IDLE between rounds when offered, else poll."""
        backoff = 1.0
        while not stop.is_set():
            try:
                client = await self._connect()
                backoff = 1.0
                try:
                    while not stop.is_set():
                        await self._round(client)
                        await self._wait(client, stop)
                finally:
                    with contextlib.suppress(Exception):
                        await client.logout()
            except (OSError, TimeoutError, ConnectionError, aioimaplib.Abort,
                    aioimaplib.CommandTimeout) as exc:
                logger.warning("IMAP: %s; again in %.0f s", exc, backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, 300.0)

    async def _wait(self, client: aioimaplib.IMAP4, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        try:
            if client.has_capability("IDLE"):
                idle = await client.idle_start(timeout=self._poll)
                pushed = asyncio.ensure_future(client.wait_server_push(timeout=self._poll))
                await asyncio.wait([pushed, stopping], return_when=asyncio.FIRST_COMPLETED)
                pushed.cancel()
                client.idle_done()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(idle, self._mailbox.timeout)
            else:
                await asyncio.wait([stopping], timeout=self._poll)
        finally:
            stopping.cancel()
