"""Staff accounts' rules on the in-memory unit of work: login throttling, sessions, users.

No database: tests/storage/test_login_throttle_backends.py and tests/web/ check the same
rules over SQLite (and PostgreSQL) through the real unit of work.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from bot.clock import FixedClock
from bot.services.audit_kinds import AuditKind
from bot.services.staff_accounts import AccountError, LoginLimits, LoginRefused, StaffAccounts
from tests.conftest import NOW
from tests.support.fake_uow import FakeStorage

PASSWORD = "correct horse battery"
CLIENT = "198.51.100.7"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


async def accounts(limits: LoginLimits | None = None) -> tuple[StaffAccounts, FakeStorage, FixedClock]:
    storage, clock = FakeStorage(), FixedClock(NOW)
    staff = StaffAccounts(storage, clock, limits, hasher=CHEAP)
    await staff.add_user("bruno", "agent", PASSWORD)
    return staff, storage, clock


async def refusal(staff: StaffAccounts, password: str = "wrong", client: str = CLIENT,
                  name: str = "bruno") -> LoginRefused:
    with pytest.raises(LoginRefused) as refused:
        await staff.login(name, password, client)
    return refused.value


async def fail_until_limited(staff: StaffAccounts, clock: FixedClock) -> int:
    """Fail once more once the current delay has run out; the delay the next try then gets."""
    while (refused := await refusal(staff)).reason == "rate_limited":
        clock.moment += timedelta(seconds=refused.retry_after)
    return (await refusal(staff)).retry_after


async def test_the_free_failures_go_unpunished_then_the_delay_doubles() -> None:
    staff, _, clock = await accounts()
    for _ in range(3):
        assert (await refusal(staff)).reason == "invalid"
    first = await refusal(staff, PASSWORD)  # not even the right password is heard now
    assert (first.reason, first.retry_after) == ("rate_limited", 1)
    assert [await fail_until_limited(staff, clock) for _ in range(5)] == [2, 4, 8, 16, 32]


async def test_the_delay_stops_growing_at_the_cap() -> None:
    staff, _, clock = await accounts(LoginLimits(max_delay=timedelta(seconds=5)))
    for _ in range(3):
        await refusal(staff)
    assert (await refusal(staff)).retry_after == 1
    assert [await fail_until_limited(staff, clock) for _ in range(4)] == [2, 4, 5, 5]


async def test_a_success_starts_the_count_again() -> None:
    staff, _, clock = await accounts()
    for _ in range(3):
        await refusal(staff)
    clock.moment += timedelta(seconds=1)
    token, who = await staff.login("bruno", PASSWORD, CLIENT)
    assert token and who.name == "bruno"
    clock.moment += timedelta(seconds=1)  # failures count from after the success
    assert [(await refusal(staff)).reason for _ in range(4)] == ["invalid"] * 3 + ["rate_limited"]


async def test_failures_older_than_the_window_are_forgotten() -> None:
    staff, _, clock = await accounts(LoginLimits(window=timedelta(hours=1)))
    for _ in range(3):
        await refusal(staff)
    clock.moment += timedelta(hours=1, seconds=1)
    assert (await refusal(staff)).reason == "invalid"


async def test_another_client_is_not_held_back_but_a_sprayer_is() -> None:
    staff, _, _ = await accounts()
    for _ in range(3):
        await refusal(staff)
    _, who = await staff.login("bruno", PASSWORD, "203.0.113.20")  # the owner, elsewhere
    assert who.actor == "agent:bruno"
    sprayer = "192.0.2.9"
    for n in range(12):  # four times the free failures, over names that are not even users
        assert (await refusal(staff, client=sprayer, name=f"guess{n}")).reason == "invalid"
    assert (await refusal(staff, PASSWORD, client=sprayer)).reason == "rate_limited"


async def test_every_try_commits_its_audit_event() -> None:
    staff, storage, _ = await accounts()
    for _ in range(3):
        await refusal(staff)
    await refusal(staff)
    assert storage.audit.kinds == [AuditKind.USER_CREATED] + [AuditKind.LOGIN_FAILED] * 3 + [
        AuditKind.LOGIN_RATE_LIMITED]
    assert storage.commits == len(storage.units) == 5
    assert len(storage.staff.attempts) == 3  # a throttled try is not an attempt


async def test_a_session_lasts_its_lifetime_and_ends_at_logout() -> None:
    staff, storage, clock = await accounts(LoginLimits(session_lifetime=timedelta(hours=1)))
    token, who = await staff.login("bruno", PASSWORD, CLIENT)
    assert await staff.identify(token) == who
    assert await staff.identify("forged") is None
    await staff.logout(token)
    assert await staff.identify(token) is None
    assert storage.audit.kinds[-1] == AuditKind.LOGOUT
    token, _ = await staff.login("bruno", PASSWORD, CLIENT)
    clock.moment += timedelta(hours=1)
    assert await staff.identify(token) is None


async def test_an_inactive_user_cannot_sign_in() -> None:
    staff, storage, _ = await accounts()
    storage.staff.users["bruno"].active = False
    assert (await refusal(staff, PASSWORD)).reason == "invalid"


@pytest.mark.parametrize(("name", "role", "password", "problem"), [
    ("", "agent", PASSWORD, "1-64 characters"),
    ("Ana Maria", "agent", PASSWORD, "1-64 characters"),
    ("ana", "boss", PASSWORD, "role must be"),
    ("ana", "admin", "short", "at least 10"),
    (" BRUNO ", "admin", PASSWORD, "already exists"),
])
async def test_a_user_is_refused_when(name: str, role: str, password: str, problem: str) -> None:
    staff, storage, _ = await accounts()
    with pytest.raises(AccountError, match=problem):
        await staff.add_user(name, role, password)
    assert list(storage.staff.users) == ["bruno"] and storage.commits == 1
