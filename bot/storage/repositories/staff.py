"""Staff users, their signed-in sessions and the login attempts that throttle them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.staff_models import LoginAttempt, StaffSession, StaffUser


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- users --------------------------------------------------------------------------------

    async def user_named(self, name: str) -> StaffUser | None:
        return await self.session.scalar(select(StaffUser).where(StaffUser.name == name))

    async def user(self, user_id: int) -> StaffUser | None:
        return await self.session.get(StaffUser, user_id)

    async def add_user(self, name: str, role: str, password_hash: str) -> StaffUser:
        user = StaffUser(name=name, role=role, password_hash=password_hash)
        self.session.add(user)
        await self.session.flush()
        return user

    # -- signed-in sessions -----------------------------------------------------------------

    async def open_session(self, token_hash: str, user_id: int, csrf_token: str,
                           created_at: datetime, expires_at: datetime) -> StaffSession:
        row = StaffSession(token_hash=token_hash, user_id=user_id, csrf_token=csrf_token,
                           created_at=created_at, expires_at=expires_at)
        self.session.add(row)
        return row

    async def session_by_token(self, token_hash: str) -> StaffSession | None:
        return await self.session.scalar(select(StaffSession).where(
            StaffSession.token_hash == token_hash))

    async def end_session(self, token_hash: str) -> None:
        await self.session.execute(delete(StaffSession).where(
            StaffSession.token_hash == token_hash))

    # -- login attempts -----------------------------------------------------------------------

    async def add_attempt(self, name: str, client: str, success: bool, at: datetime) -> None:
        self.session.add(LoginAttempt(name=name, client=client, success=success, at=at))

    async def last_success(self, client: str, name: str | None = None) -> datetime | None:
        """When ``client`` (with ``name``: that name from it) last signed in."""
        return await self.session.scalar(select(func.max(LoginAttempt.at)).where(
            *self._key(client, name), LoginAttempt.success.is_(True)))

    async def failures_after(self, start: datetime, client: str, name: str | None = None
                             ) -> tuple[int, datetime | None]:
        """How many logins of ``client`` (with ``name``: of that name) failed after ``start``,
        and when the last of them did."""
        row = (await self.session.execute(select(func.count(), func.max(LoginAttempt.at)).where(
            *self._key(client, name), LoginAttempt.success.is_(False),
            LoginAttempt.at > start))).one()
        return int(row[0] or 0), row[1]

    @staticmethod
    def _key(client: str, name: str | None) -> tuple[ColumnElement[bool], ...]:
        if name is None:
            return (LoginAttempt.client == client,)
        return (LoginAttempt.name == name, LoginAttempt.client == client)
