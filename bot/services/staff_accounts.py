"""Staff accounts: argon2id passwords, database-backed sessions, login rate limiting.

A session cookie carries a random token; the database keeps only its SHA-256, the
user, a per-session CSRF token and an expiry. Failed logins are counted per name and
per client address over a sliding window; past the limit the password is not even
checked (``LoginRefused("rate_limited")``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.services.staff_audit import StaffAuditKind
from bot.storage.repositories import AuditLog
from bot.storage.staff_models import LoginAttempt, StaffRole, StaffSession, StaffUser

MIN_PASSWORD_CHARS = 10
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")


class AccountError(ValueError):
    """A user cannot be created as asked (bad name, weak password, name taken)."""


class LoginRefused(Exception):
    """``reason``: ``invalid`` (name or password wrong, account inactive) or ``rate_limited``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class StaffIdentity:
    """Who is signed in (plain values; no ORM object leaves this service)."""

    user_id: int
    name: str
    role: str
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginLimits:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    session_lifetime: timedelta = timedelta(hours=12)


class StaffAccounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 limits: LoginLimits | None = None, hasher: PasswordHasher | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._limits = limits or LoginLimits()
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        """Verified against when the name is unknown, so timing does not reveal names."""
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        return self._dummy

    async def add_user(self, name: str, role: str, password: str) -> int:
        name = name.strip().lower()
        if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
            raise AccountError("the name must be 1-64 characters: letters, digits, . _ - @")
        if role not in {r.value for r in StaffRole}:
            raise AccountError(f"role must be agent or admin, not {role!r}")
        if len(password) < MIN_PASSWORD_CHARS:
            raise AccountError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
        async with self._sessions() as session:
            if await session.scalar(select(StaffUser).where(StaffUser.name == name)):
                raise AccountError(f"user {name!r} already exists")
            user = StaffUser(name=name, role=role, password_hash=self._hasher.hash(password))
            session.add(user)
            await session.flush()
            await AuditLog(session).record(StaffAuditKind.USER_CREATED, "system",
                                           data={"name": name, "role": role})
            await session.commit()
            return user.id

    async def login(self, name: str, password: str, client: str) -> tuple[str, StaffIdentity]:
        """A new session token and who it is; raises :class:`LoginRefused`."""
        name = name.strip().lower()[:64]
        client = client[:64]
        now = self._clock.now()
        async with self._sessions() as session:
            audit = AuditLog(session)
            if await self._too_many_failures(session, name, client):
                await audit.record(StaffAuditKind.LOGIN_RATE_LIMITED, "system",
                                   data={"name": name, "client": client})
                await session.commit()
                raise LoginRefused("rate_limited")
            user = await session.scalar(select(StaffUser).where(StaffUser.name == name))
            valid = self._verify(user.password_hash if user else self._dummy_hash, password)
            ok = bool(user is not None and user.active and valid)
            session.add(LoginAttempt(name=name, client=client, success=ok, at=now))
            if not ok or user is None:
                await audit.record(StaffAuditKind.LOGIN_FAILED, "system",
                                   data={"name": name, "client": client})
                await session.commit()
                raise LoginRefused("invalid")
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            token = secrets.token_urlsafe(32)
            row = StaffSession(token_hash=token_hash(token), user_id=user.id,
                               csrf_token=secrets.token_urlsafe(32), created_at=now,
                               expires_at=now + self._limits.session_lifetime)
            session.add(row)
            user.last_login_at = now
            await audit.record(StaffAuditKind.LOGIN, f"{user.role}:{user.name}",
                               data={"client": client})
            await session.commit()
            return token, StaffIdentity(user.id, user.name, user.role, row.csrf_token)

    async def identify(self, token: str) -> StaffIdentity | None:
        if not token:
            return None
        async with self._sessions() as session:
            row = await session.scalar(select(StaffSession).where(
                StaffSession.token_hash == token_hash(token)))
            if row is None or row.expires_at <= self._clock.now():
                return None
            user = await session.get(StaffUser, row.user_id)
            if user is None or not user.active:
                return None
            return StaffIdentity(user.id, user.name, user.role, row.csrf_token)

    async def logout(self, token: str) -> None:
        async with self._sessions() as session:
            identity = await self.identify(token)
            await session.execute(delete(StaffSession).where(
                StaffSession.token_hash == token_hash(token)))
            if identity is not None:
                await AuditLog(session).record(StaffAuditKind.LOGOUT, identity.actor)
            await session.commit()

    async def _too_many_failures(self, session: AsyncSession, name: str, client: str) -> bool:
        since = self._clock.now() - self._limits.window
        failures = select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.success.is_(False), LoginAttempt.at >= since)
        by_name = await session.scalar(failures.where(LoginAttempt.name == name)) or 0
        by_client = await session.scalar(failures.where(LoginAttempt.client == client)) or 0
        return by_name >= self._limits.max_failures or by_client >= 4 * self._limits.max_failures

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False
