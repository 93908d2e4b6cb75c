"""Staff login throttling: growing delays per (name, client) and per client, never a lock
that anyone can put on an account; X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bot.clock import FixedClock
from bot.services.staff_accounts import LoginLimits
from tests.web.conftest import PASSWORD, Site, csrf_of, login

ATTACKER, OFFICE = "198.51.100.7", "203.0.113.20"


def clock(site: Site) -> FixedClock:
    assert isinstance(site.container.clock, FixedClock)
    return site.container.clock


async def fail(http: httpx.AsyncClient, name: str = "bruno", **headers: str) -> httpx.Response:
    form = await http.get("/login")
    return await http.post("/login", headers=headers, data={
        "name": name, "password": "wrong password!", "csrf_token": csrf_of(form.text), "next": "/agent"})


@pytest.mark.parametrize(("failures", "seconds"), [
    (0, 0), (2, 0), (3, 1), (4, 2), (5, 4), (8, 32), (12, 512), (13, 900), (500, 900)])
def test_the_delay_doubles_after_three_failures_up_to_the_cap(failures: int, seconds: int) -> None:
    assert LoginLimits().delay(failures, 3) == timedelta(seconds=seconds)


async def test_an_attackers_failures_do_not_lock_the_account_for_its_owner(site: Site) -> None:
    async with site.client(ATTACKER) as attacker:
        for _ in range(3):
            assert (await fail(attacker)).status_code == 401
        for _ in range(20):  # hammering during the delay changes nothing
            assert (await fail(attacker)).status_code == 429
    async with site.client(OFFICE) as owner:
        response = await login(owner, "bruno", PASSWORD)
        assert response.status_code == 303, response.text


async def test_delays_grow_and_are_told_in_retry_after(site: Site) -> None:
    async with site.client(ATTACKER) as http:
        for _ in range(3):
            assert (await fail(http)).status_code == 401
        for expected in (1, 2, 4, 8):
            refused = await fail(http)
            assert refused.status_code == 429 and refused.headers["retry-after"] == str(expected)
            clock(site).moment += timedelta(seconds=expected - 1)
            assert (await fail(http)).status_code == 429  # a second early: still waiting
            clock(site).moment += timedelta(seconds=1)
            assert (await fail(http)).status_code == 401  # heard, and wrong again
        clock(site).moment += timedelta(seconds=16)
        assert (await login(http, "bruno", PASSWORD)).status_code == 303
    async with site.client(ATTACKER) as http:  # a success starts the count again
        assert (await fail(http)).status_code == 401


async def test_one_client_spraying_many_names_is_slowed_down(site: Site) -> None:
    async with site.client(ATTACKER) as http:
        for n in range(12):
            assert (await fail(http, name=f"user{n}")).status_code == 401
        assert (await fail(http, name="someone-else")).status_code == 429
    async with site.client(OFFICE) as http:
        assert (await login(http, "alice", PASSWORD)).status_code == 303


async def test_x_forwarded_for_is_ignored_from_untrusted_peers(site: Site) -> None:
    async with site.client(ATTACKER) as http:
        for n in range(3):
            assert (await fail(http, **{"X-Forwarded-For": f"10.0.0.{n}"})).status_code == 401
        # A new forged address every time does not escape the delay.
        assert (await fail(http, **{"X-Forwarded-For": "10.9.9.9"})).status_code == 429


async def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(site: Site) -> None:
    site.container.settings.trusted_proxies = "127.0.0.1, 10.0.0.0/8"
    async with site.client("127.0.0.1") as proxy:
        for _ in range(3):
            # The client forged the left part; the proxies appended the right part.
            response = await fail(proxy, **{"X-Forwarded-For": f"{OFFICE}, {ATTACKER}, 10.1.2.3"})
            assert response.status_code == 401
        assert (await fail(proxy, **{"X-Forwarded-For": f"1.1.1.1, {ATTACKER}"})).status_code == 429
    async with site.client("127.0.0.1") as proxy:
        form = await proxy.get("/login")
        ok = await proxy.post("/login", headers={"X-Forwarded-For": OFFICE}, data={
            "name": "bruno", "password": PASSWORD, "csrf_token": csrf_of(form.text), "next": "/agent"})
        assert ok.status_code == 303


def test_bad_trusted_proxies_are_refused_naming_the_entry() -> None:
    from pydantic import ValidationError

    from bot.config import Settings

    with pytest.raises(ValidationError, match="'10.0.0.0/33'"):
        Settings(trusted_proxies="127.0.0.1,10.0.0.0/33", _env_file=None)  # type: ignore[call-arg]
    assert Settings(_env_file=None).trusted_networks == ()  # type: ignore[call-arg]


def test_serve_leaves_x_forwarded_for_to_the_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    import uvicorn

    from bot.cli.app import app
    from tests.conftest import ROOT

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    result = CliRunner().invoke(app, ["serve"], env={
        "ACORDO_POLICIES_DIR": str(ROOT / "policies"), "ACORDO_DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is False
