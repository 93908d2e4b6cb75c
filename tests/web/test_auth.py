"""Sign-in, sessions, roles, CSRF and login rate limiting of the staff pages."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from bot.storage.models import AuditEvent
from bot.storage.staff_models import StaffSession, StaffUser
from tests.web.conftest import PASSWORD, Site, csrf_of, login

STAFF_PAGES = ["/agent", "/admin", "/admin/policies", "/admin/templates/pt-BR/greet", "/agent/c/x"]


@pytest.mark.parametrize("path", STAFF_PAGES)
async def test_unauthenticated_users_only_see_the_login_page(site: Site, path: str) -> None:
    async with site.client() as http:
        response = await http.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
        assert (await http.get(response.headers["location"])).status_code == 200


async def test_login_sets_a_hardened_cookie_and_passwords_are_argon2(site: Site) -> None:
    async with site.client() as http:
        response = await login(http, "alice", PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/agent"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert (await http.get("/agent")).status_code == 200
    async with site.container.sessions() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.name == "alice"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        stored = await session.scalar(select(StaffSession.token_hash))
        assert stored is not None and len(stored) == 64  # only the token's hash is kept


async def test_cookie_is_secure_behind_tls(site: Site) -> None:
    site.container.settings.public_url = "https://acordo.example"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=site.asgi),
                                 base_url="https://test") as http:
        response = await login(http, "alice", PASSWORD)
        assert "Secure" in response.headers["set-cookie"]


async def test_wrong_password_is_refused_and_audited(site: Site) -> None:
    async with site.client() as http:
        response = await login(http, "alice", "not the password")
        assert response.status_code == 401 and "Wrong name or password" in response.text
        assert (await http.get("/agent")).status_code == 303
    async with site.container.sessions() as session:
        kinds = list(await session.scalars(select(AuditEvent.kind)))
    assert "staff_login_failed" in kinds


async def test_login_is_rate_limited(site: Site) -> None:
    async with site.client() as http:
        for _ in range(3):
            assert (await login(http, "bruno", "wrong password!")).status_code == 401
        # Even the right password waits now, without being checked.
        response = await login(http, "bruno", PASSWORD)
        assert response.status_code == 429 and "Too many" in response.text
        assert response.headers["retry-after"] == "1"
    async with site.client() as http:  # another user is not affected
        assert (await login(http, "alice", PASSWORD)).status_code == 303


async def test_login_form_needs_its_csrf_token(site: Site) -> None:
    async with site.client() as http:
        await http.get("/login")
        response = await http.post("/login", data={"name": "alice", "password": PASSWORD,
                                                    "csrf_token": "forged"})
        assert response.status_code == 403


async def test_agents_cannot_open_admin_pages(site: Site) -> None:
    async with site.signed_in("alice") as http:
        for path in ("/admin", "/admin/policies", "/admin/templates/pt-BR/greet"):
            assert (await http.get(path)).status_code == 403
        page = await http.get("/agent")
        response = await http.post("/admin/templates/pt-BR/greet",
                                   data={"source": "oi", "csrf_token": csrf_of(page.text)})
        assert response.status_code == 403


async def test_admins_open_both_consoles(site: Site) -> None:
    async with site.signed_in("carla") as http:
        assert (await http.get("/admin")).status_code == 200
        assert (await http.get("/agent")).status_code == 200
        policies = await http.get("/admin/policies")
        assert "demo: ok" in policies.text and "Distribuidora Exemplo" in policies.text


async def test_post_without_csrf_token_is_refused(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice") as http:
        response = await http.post(f"/agent/c/{public_id}/take", data={})
        assert response.status_code == 403
        response = await http.post(f"/agent/c/{public_id}/take", data={"csrf_token": "nope"})
        assert response.status_code == 403


async def test_logout_ends_the_session(site: Site) -> None:
    async with site.signed_in("alice") as http:
        page = await http.get("/agent")
        response = await http.post("/logout", data={"csrf_token": csrf_of(page.text)})
        assert response.status_code == 303
        assert (await http.get("/agent")).status_code == 303


async def test_open_redirects_are_refused(site: Site) -> None:
    async with site.client() as http:
        form = await http.get("/login")
        response = await http.post("/login", data={"name": "alice", "password": PASSWORD,
                                                    "csrf_token": csrf_of(form.text),
                                                    "next": "//evil.example/"})
        assert response.headers["location"] == "/agent"
