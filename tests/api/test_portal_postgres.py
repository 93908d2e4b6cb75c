"""The portal page's writes racing on PostgreSQL: accepting from several tabs creates one
agreement, "já paguei" from several tabs opens one claim, and the terms PDF of the
agreement is served (the same requests as on SQLite, tests/api/test_portal_*.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import models as db
from bot.storage.claim_models import ClaimAttachment, PaymentClaim
from tests.support.portal import Portal, form_field, offer_refs, open_portal

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def pg_portal(tmp_path: Path) -> AsyncIterator[Portal]:
    from tests.storage.conftest import create_postgres_database, drop_postgres_database

    url = await create_postgres_database()
    try:
        async for opened in open_portal(tmp_path, database_url=url):
            yield opened
    finally:
        await drop_postgres_database(url)


async def test_racing_accepts_claims_and_the_terms_on_postgresql(pg_portal: Portal) -> None:
    portal = pg_portal
    token = portal.token()
    html = (await portal.http.get(f"/p/{token}")).text
    form, refs = form_field(html), offer_refs(html)
    paid = await asyncio.gather(*(
        portal.http.post(f"/p/{token}/paid", data={"form": form, "note": f"paguei {n}"},
                         files={"receipt": ("r.png", PNG, "image/png")} if n % 2 else None)
        for n in range(4)))
    assert [r.status_code for r in paid] == [303] * 4
    assert len(await portal.rows(PaymentClaim)) == 1 and len(await portal.rows(ClaimAttachment)) == 2
    accepted = await asyncio.gather(*(
        portal.http.post(f"/p/{token}/accept", data={"offer": ref, "form": form})
        for ref in (refs[1], refs[0], refs[1], refs[2])))
    assert [r.status_code for r in accepted] == [303] * 4
    assert len(await portal.rows(db.Agreement)) == 1
    terms = await portal.http.get(f"/p/{token}/termo.pdf")
    assert terms.status_code == 200 and terms.content.startswith(b"%PDF")
