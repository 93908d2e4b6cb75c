"""Staff login throttling on SQLite and PostgreSQL: the same delays from stored attempts
(naive SQLite and aware PostgreSQL timestamps alike)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import FixedClock
from bot.services.staff_accounts import LoginRefused, StaffAccounts
from bot.storage.uow import unit_of_work
from tests.conftest import NOW

PASSWORD = "correct horse battery"


async def test_delays_per_name_and_client_on_every_backend(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FixedClock(NOW)
    staff = StaffAccounts(unit_of_work(sessions), clock, hasher=PasswordHasher(time_cost=1, memory_cost=1024,
                                                                 parallelism=1))
    await staff.add_user("bruno", "agent", PASSWORD)
    for _ in range(3):
        with pytest.raises(LoginRefused, match="invalid"):
            await staff.login("bruno", "wrong", "198.51.100.7")
    with pytest.raises(LoginRefused) as refused:
        await staff.login("bruno", PASSWORD, "198.51.100.7")
    assert refused.value.reason == "rate_limited" and refused.value.retry_after == 1
    token, who = await staff.login("bruno", PASSWORD, "203.0.113.20")  # the owner, elsewhere
    assert token and who.name == "bruno"
    clock.moment += timedelta(seconds=1)
    with pytest.raises(LoginRefused, match="invalid"):
        await staff.login("bruno", "wrong", "198.51.100.7")
    with pytest.raises(LoginRefused) as refused:
        await staff.login("bruno", "wrong", "198.51.100.7")
    assert refused.value.retry_after == 2


async def test_parallel_guesses_from_one_client_are_heard_one_at_a_time(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    import asyncio

    staff = StaffAccounts(unit_of_work(sessions), FixedClock(NOW), hasher=PasswordHasher(
        time_cost=1, memory_cost=1024, parallelism=1))
    await staff.add_user("bruno", "agent", PASSWORD)

    async def guess(n: int) -> str:
        try:
            await staff.login("bruno", f"guess {n}", "198.51.100.7")
        except LoginRefused as exc:
            return exc.reason
        return "signed in"

    reasons = await asyncio.gather(*(guess(n) for n in range(12)))
    assert reasons.count("invalid") == 3 and reasons.count("rate_limited") == 9
