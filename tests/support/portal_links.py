"""Signed portal links stored as the app stores them, for tests that want a token inline.

:func:`stored_token` signs a token and writes its row (the token's SHA-256, the debtor and
the web contact it names) synchronously into the app's database, so that a test can write
``portal.token()`` in an expression (SQLite through the standard driver; PostgreSQL through
the app's asyncpg driver on a thread of its own, since the test's event loop is busy). The
app's own issuing path (``bot/services/portal_links.py``) is tested through the CLI and the
admin API.
A token whose debtor or contact does not exist is signed but not stored (refused as
invalid, like a link issued by another server).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, create_engine, insert, make_url, select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.channels.web_links import PortalLinkSigner, token_hash
from bot.clock import Clock
from bot.storage.db import async_url
from bot.storage.portal_link_models import StoredPortalLink
from bot.storage.tables import contacts, debtors, table_of

portal_links = table_of(StoredPortalLink)


def stored_token(database_url: str, secret: str, clock: Clock, creditor: str, debtor: str,
                 address: str, days: float = 7, issued_by: str = "test") -> str:
    token, link = PortalLinkSigner(secret, clock).issue(creditor, debtor, address,
                                                        timedelta(days=days))
    row = {"token_hash": token_hash(token), "issued_by": issued_by, "issued_at": clock.now(),
           "expires_at": link.expires_at, "use_count": 0}
    if make_url(database_url).get_backend_name() == "sqlite":
        engine = create_engine(database_url)
        try:
            with engine.begin() as connection:
                _store(connection, creditor, debtor, address, row)
        finally:
            engine.dispose()
    else:
        with ThreadPoolExecutor(max_workers=1) as thread:
            thread.submit(asyncio.run, _store_async(database_url, creditor, debtor, address,
                                                    row)).result(timeout=60)
    return token


def _store(connection: Connection, creditor: str, debtor: str, address: str,
           row: dict[str, Any]) -> None:
    debtor_id = connection.scalar(select(debtors.c.id).where(
        debtors.c.creditor_id == creditor, debtors.c.external_id == debtor))
    contact_id = connection.scalar(select(contacts.c.id).where(
        contacts.c.channel == "web", contacts.c.address == address))
    if debtor_id is not None and contact_id is not None:
        connection.execute(insert(portal_links).values(debtor_id=debtor_id, contact_id=contact_id,
                                                       **row))


async def _store_async(database_url: str, creditor: str, debtor: str, address: str,
                       row: dict[str, Any]) -> None:
    engine = create_async_engine(async_url(database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_store, creditor, debtor, address, row)
    finally:
        await engine.dispose()
