"""Staff accounts: argon2id passwords, database-backed sessions, login rate limiting.

A session cookie carries a random token; the database keeps only its SHA-256, the
user, a per-session CSRF token and an expiry.

Failed logins slow down whoever makes them, never the account for everyone: failures are
counted per (name, client address) and per client address (any name), since the last
success of that key and within ``LoginLimits.window``. After ``free_failures`` failures of
a (name, client) the next try waits 2^(n - free_failures) seconds after the last failure
(1 s, 2 s, 4 s, … capped at ``max_delay``); a client address gets four times as many free
failures over all names (password spraying). While a delay runs the password is not even
checked (``LoginRefused("rate_limited", retry_after=seconds)``). The right password from
another client address is never held back by someone else's failures.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.clock import Clock
from bot.services.audit_kinds import AuditKind
from bot.storage.staff_models import StaffRole
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

MIN_PASSWORD_CHARS = 10
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")


class AccountError(ValueError):
    """A user cannot be created as asked (bad name, weak password, name taken)."""


class LoginRefused(Exception):
    """``reason``: ``invalid`` (name or password wrong, account inactive) or ``rate_limited``
    (then ``retry_after``: whole seconds until the next try is heard)."""

    def __init__(self, reason: str, retry_after: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


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


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive UTC datetimes back; PostgreSQL aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginLimits:
    free_failures: int = 3  # per (name, client); a client gets 4x over all names
    max_delay: timedelta = timedelta(minutes=15)
    window: timedelta = timedelta(days=1)  # failures older than this are forgotten
    session_lifetime: timedelta = timedelta(hours=12)

    def delay(self, failures: int, free: int) -> timedelta:
        """How long after the last of ``failures`` failures the next try must wait."""
        if failures < free:
            return timedelta(0)
        exponent = min(failures - free, 40)
        return min(timedelta(seconds=2 ** exponent), self.max_delay)


class StaffAccounts:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock,
                 limits: LoginLimits | None = None, hasher: PasswordHasher | None = None) -> None:
        self._uow = uow
        self._clock = clock
        self._limits = limits or LoginLimits()
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._dummy: str | None = None
        # One login at a time per client address in this process: parallel guesses would
        # all pass the delay check before the first failure is stored.
        self._client_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary())

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
        async with self._uow() as uow:
            if await uow.staff.user_named(name):
                raise AccountError(f"user {name!r} already exists")
            user = await uow.staff.add_user(name, role, self._hasher.hash(password))
            await uow.audit.record(AuditKind.USER_CREATED, "system",
                                   data={"name": name, "role": role})
            await uow.commit()
            return user.id

    async def login(self, name: str, password: str, client: str) -> tuple[str, StaffIdentity]:
        """A new session token and who it is; raises :class:`LoginRefused`."""
        client = client[:64]
        lock = self._client_locks.get(client)
        if lock is None:
            lock = self._client_locks[client] = asyncio.Lock()
        async with lock:
            return await self._login(name.strip().lower()[:64], password, client)

    async def _login(self, name: str, password: str, client: str) -> tuple[str, StaffIdentity]:
        now = self._clock.now()
        async with self._uow() as uow:
            wait = await self._wait(uow, name, client)
            if wait > 0:
                await uow.audit.record(AuditKind.LOGIN_RATE_LIMITED, "system",
                                       data={"name": name, "client": client, "retry_after": wait})
                await uow.commit()
                raise LoginRefused("rate_limited", retry_after=wait)
            user = await uow.staff.user_named(name)
            valid = self._verify(user.password_hash if user else self._dummy_hash, password)
            ok = bool(user is not None and user.active and valid)
            await uow.staff.add_attempt(name, client, ok, now)
            if not ok or user is None:
                await uow.audit.record(AuditKind.LOGIN_FAILED, "system",
                                       data={"name": name, "client": client})
                await uow.commit()
                raise LoginRefused("invalid")
            if self._hasher.check_needs_rehash(user.password_hash):
                user.password_hash = self._hasher.hash(password)
            token = secrets.token_urlsafe(32)
            row = await uow.staff.open_session(token_hash(token), user.id, secrets.token_urlsafe(32),
                                               now, now + self._limits.session_lifetime)
            user.last_login_at = now
            await uow.audit.record(AuditKind.LOGIN, f"{user.role}:{user.name}",
                                   data={"client": client})
            await uow.commit()
            return token, StaffIdentity(user.id, user.name, user.role, row.csrf_token)

    async def identify(self, token: str) -> StaffIdentity | None:
        if not token:
            return None
        async with self._uow() as uow:
            row = await uow.staff.session_by_token(token_hash(token))
            if row is None or row.expires_at <= self._clock.now():
                return None
            user = await uow.staff.user(row.user_id)
            if user is None or not user.active:
                return None
            return StaffIdentity(user.id, user.name, user.role, row.csrf_token)

    async def logout(self, token: str) -> None:
        async with self._uow() as uow:
            identity = await self.identify(token)
            await uow.staff.end_session(token_hash(token))
            if identity is not None:
                await uow.audit.record(AuditKind.LOGOUT, identity.actor)
            await uow.commit()

    async def _wait(self, uow: UnitOfWork, name: str, client: str) -> int:
        """Whole seconds this (name, client) must still wait before a try is heard (0: none)."""
        now = self._clock.now()
        free = self._limits.free_failures
        waits = [0.0]
        for key_name, key_free in ((name, free), (None, 4 * free)):
            since = await uow.staff.last_success(client, key_name)
            start = now - self._limits.window
            if since is not None and _aware(since) > start:
                start = _aware(since)
            failures, last = await uow.staff.failures_after(start, client, key_name)
            if last is not None:
                ready = _aware(last) + self._limits.delay(failures, key_free)
                waits.append((ready - now).total_seconds())
        return math.ceil(max(waits))

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored, password))
        except (VerificationError, InvalidHashError):
            return False
