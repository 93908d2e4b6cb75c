"""Revoking a portal link through the admin API: the page answers the polite 410, the chat
refuses the token, and every use before was counted and audited by the link's id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage.portal_link_models import StoredPortalLink
from tests.support.portal import ADMIN, Portal, open_portal

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def portal(tmp_path: Path) -> AsyncIterator[Portal]:
    async for opened in open_portal(tmp_path):
        yield opened


async def issue(portal: Portal, **body: object) -> dict[str, object]:
    response = await portal.http.post("/api/v1/portal/links", headers=ADMIN,
                                      json={"debtor_external_id": "acme", **body})
    assert response.status_code == 201, response.text
    issued: dict[str, object] = response.json()
    return issued


async def test_a_revoked_link_opens_nothing(portal: Portal) -> None:
    issued = await issue(portal)
    token, link_id = str(issued["token"]), issued["id"]
    assert isinstance(link_id, int)
    assert (await portal.http.get(f"/p/{token}")).status_code == 200
    chat = await portal.http.post("/channels/web/messages", json={"token": token, "text": "oi"})
    assert chat.status_code == 200
    assert (await portal.http.get("/channels/web/messages", params={"token": token})).status_code == 200

    assert (await portal.http.delete(f"/api/v1/portal/links/{link_id}")).status_code == 401
    revoked = await portal.http.delete(f"/api/v1/portal/links/{link_id}", headers=ADMIN)
    assert revoked.status_code == 204 and revoked.content == b""
    again = await portal.http.delete(f"/api/v1/portal/links/{link_id}", headers=ADMIN)
    assert again.status_code == 204
    missing = await portal.http.delete(f"/api/v1/portal/links/{link_id + 1000}", headers=ADMIN)
    assert missing.status_code == 404 and str(link_id + 1000) in missing.json()["detail"]
    assert (await portal.http.delete("/api/v1/portal/links/x", headers=ADMIN)).status_code == 422

    page = await portal.http.get(f"/p/{token}")
    assert page.status_code == 410
    assert "Link cancelado" in page.text and "Link revoked" in page.text
    for leak in ("Acme", "7.350", "R$", "Distribuidora"):
        assert leak not in page.text
    chat = await portal.http.post("/channels/web/messages", json={"token": token, "text": "oi"})
    assert chat.status_code == 401 and "revoked" in chat.json()["detail"]
    polled = await portal.http.get("/channels/web/messages", params={"token": token})
    assert polled.status_code == 401

    [row] = [r for r in await portal.rows(StoredPortalLink) if r.id == link_id]
    assert (row.use_count, row.issued_by, row.revoked_by) == (2, "api", "admin")
    used = [e for e in await portal.rows_of_kind("portal_link_used")]
    # The chat message right after the page load is counted but not audited: same session.
    assert [(e.actor, e.data["link"], e.data["via"]) for e in used] == [("portal", link_id, "page")]
    assert token not in repr([e.data for e in used])


async def test_another_link_of_the_same_debtor_keeps_working(portal: Portal) -> None:
    first, second = await issue(portal), await issue(portal)
    assert first["id"] != second["id"]
    await portal.http.delete(f"/api/v1/portal/links/{first['id']}", headers=ADMIN)
    assert (await portal.http.get(f"/p/{first['token']}")).status_code == 410
    assert (await portal.http.get(f"/p/{second['token']}")).status_code == 200
