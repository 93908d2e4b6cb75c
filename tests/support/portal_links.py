"""Signed portal links stored as the app stores them, for tests that want a token inline.

:func:`stored_token` signs a token and writes its row (the token's SHA-256, the debtor and
the web contact it names) synchronously into the app's SQLite file, so that a test can
write ``portal.token()`` in an expression. The app's own issuing path
(``bot/services/portal_links.py``) is tested through the CLI and the admin API.
A token whose debtor or contact does not exist is signed but not stored (refused as
invalid, like a link issued by another server).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import create_engine, insert, select

from bot.channels.web_links import PortalLinkSigner, token_hash
from bot.clock import Clock
from bot.storage.portal_link_models import StoredPortalLink
from bot.storage.tables import contacts, debtors, table_of

portal_links = table_of(StoredPortalLink)


def stored_token(database_url: str, secret: str, clock: Clock, creditor: str, debtor: str,
                 address: str, days: float = 7, issued_by: str = "test") -> str:
    token, link = PortalLinkSigner(secret, clock).issue(creditor, debtor, address,
                                                        timedelta(days=days))
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            debtor_id = connection.scalar(select(debtors.c.id).where(
                debtors.c.creditor_id == creditor, debtors.c.external_id == debtor))
            contact_id = connection.scalar(select(contacts.c.id).where(
                contacts.c.channel == "web", contacts.c.address == address))
            if debtor_id is not None and contact_id is not None:
                connection.execute(insert(portal_links).values(
                    token_hash=token_hash(token), debtor_id=debtor_id, contact_id=contact_id,
                    issued_by=issued_by, issued_at=clock.now(), expires_at=link.expires_at,
                    use_count=0))
    finally:
        engine.dispose()
    return token

