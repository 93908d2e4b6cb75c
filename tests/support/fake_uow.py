"""An in-memory unit of work for fast service tests (cosmicpython's ``FakeUnitOfWork``).

:class:`FakeStorage` is what a service takes in place of ``unit_of_work(sessions)``: calling
it makes a fresh :class:`FakeUnitOfWork` (used once, like the real one), and every unit
shares the storage's in-memory repositories. A unit offers the repositories that
``StaffAccounts`` and ``TelegramLinks`` use (``staff``, ``audit``, ``portfolio``,
``link_tokens``) with the same methods as the real ones; it has no ``session`` (no SQL).
Like cosmicpython's fake, a write is seen at once and a rollback only records that it
happened: tests check ``committed`` / ``rolled_back`` for the transaction's outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from bot.storage import models as db
from bot.storage.channel_models import TelegramLinkToken
from bot.storage.repositories.errors import AmbiguousDebtor, ContactConflict
from bot.storage.staff_models import LoginAttempt, StaffSession, StaffUser


@dataclass(frozen=True)
class RecordedEvent:
    kind: str
    actor: str
    debtor_id: int | None
    conversation_id: int | None
    data: dict[str, Any]


class FakeAuditLog:
    def __init__(self) -> None:
        self.events: list[RecordedEvent] = []

    async def record(self, kind: str, actor: str, *, debtor_id: int | None = None,
                     conversation_id: int | None = None, data: Mapping[str, Any] | None = None,
                     at: datetime | None = None) -> RecordedEvent:
        event = RecordedEvent(str(kind), actor, debtor_id, conversation_id, dict(data or {}))
        self.events.append(event)
        return event

    @property
    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]


class FakeStaffRepository:
    def __init__(self) -> None:
        self.users: dict[str, StaffUser] = {}
        self.sessions: dict[str, StaffSession] = {}
        self.attempts: list[LoginAttempt] = []

    async def user_named(self, name: str) -> StaffUser | None:
        return self.users.get(name)

    async def user(self, user_id: int) -> StaffUser | None:
        return next((user for user in self.users.values() if user.id == user_id), None)

    async def add_user(self, name: str, role: str, password_hash: str) -> StaffUser:
        user = StaffUser(id=len(self.users) + 1, name=name, role=role,
                         password_hash=password_hash, active=True)
        self.users[name] = user
        return user

    async def open_session(self, token_hash: str, user_id: int, csrf_token: str,
                           created_at: datetime, expires_at: datetime) -> StaffSession:
        row = StaffSession(token_hash=token_hash, user_id=user_id, csrf_token=csrf_token,
                           created_at=created_at, expires_at=expires_at)
        self.sessions[token_hash] = row
        return row

    async def session_by_token(self, token_hash: str) -> StaffSession | None:
        return self.sessions.get(token_hash)

    async def end_session(self, token_hash: str) -> None:
        self.sessions.pop(token_hash, None)

    async def add_attempt(self, name: str, client: str, success: bool, at: datetime) -> None:
        self.attempts.append(LoginAttempt(name=name, client=client, success=success, at=at))

    async def last_success(self, client: str, name: str | None = None) -> datetime | None:
        return max((a.at for a in self._of(client, name) if a.success), default=None)

    async def failures_after(self, start: datetime, client: str, name: str | None = None
                             ) -> tuple[int, datetime | None]:
        failed = [a.at for a in self._of(client, name) if not a.success and a.at > start]
        return len(failed), max(failed, default=None)

    def _of(self, client: str, name: str | None) -> list[LoginAttempt]:
        return [a for a in self.attempts if a.client == client and name in (None, a.name)]


class FakePortfolioRepository:
    """Debtors and their contacts (the lookups and the contact upsert)."""

    def __init__(self) -> None:
        self.debtors: list[db.Debtor] = []
        self.contacts: list[db.Contact] = []

    def add_debtor(self, external_id: str, creditor_id: str = "demo", locale: str = "pt-BR"
                   ) -> db.Debtor:
        """Test setup: a debtor as the import would store it."""
        debtor = db.Debtor(id=len(self.debtors) + 1, creditor_id=creditor_id,
                           external_id=external_id, name=external_id.title(),
                           timezone="America/Sao_Paulo", locale=locale)
        self.debtors.append(debtor)
        return debtor

    async def get_debtor(self, external_id: str, creditor_id: str | None = None) -> db.Debtor | None:
        found = [d for d in self.debtors if d.external_id == external_id
                 and creditor_id in (None, d.creditor_id)]
        if len(found) > 1:
            raise AmbiguousDebtor("debtor", external_id, [d.creditor_id for d in found])
        return found[0] if found else None

    async def debtor_by_id(self, debtor_id: int) -> db.Debtor | None:
        return next((d for d in self.debtors if d.id == debtor_id), None)

    async def upsert_contact(self, debtor: db.Debtor, name: str, channel: str, address: str,
                             locale: str | None = None, timezone: str | None = None) -> db.Contact:
        contact = next((c for c in self.contacts
                        if (c.channel, c.address) == (channel, address)), None)
        if contact is None:
            contact = db.Contact(id=len(self.contacts) + 1, debtor_id=debtor.id, channel=channel,
                                 address=address)
            self.contacts.append(contact)
        elif contact.debtor_id != debtor.id:
            raise ContactConflict(channel, address, contact.debtor_id)
        contact.name, contact.locale, contact.timezone = name, locale, timezone
        return contact


class FakeLinkTokenRepository:
    def __init__(self) -> None:
        self.tokens: dict[str, TelegramLinkToken] = {}

    async def add(self, token_hash: str, debtor_id: int, contact_name: str, locale: str | None,
                  expires_at: datetime) -> TelegramLinkToken:
        row = TelegramLinkToken(id=len(self.tokens) + 1, token_hash=token_hash,
                                debtor_id=debtor_id, contact_name=contact_name, locale=locale,
                                expires_at=expires_at)
        self.tokens[token_hash] = row
        return row

    async def by_hash(self, token_hash: str) -> TelegramLinkToken | None:
        return self.tokens.get(token_hash)


class FakeUnitOfWork:
    """The interface of :class:`bot.storage.uow.UnitOfWork` for the repositories it offers."""

    def __init__(self, storage: FakeStorage) -> None:
        self._storage = storage
        self._used = False
        self.committed = False
        self.rolled_back = False

    async def __aenter__(self) -> Self:
        if self._used:
            raise RuntimeError("a unit of work is used once; ask the factory for another")
        self._used = True
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        pass

    async def commit(self) -> None:
        self.committed = True

    async def rollback(self) -> None:
        self.rolled_back = True

    @property
    def staff(self) -> FakeStaffRepository:
        return self._storage.staff

    @property
    def audit(self) -> FakeAuditLog:
        return self._storage.audit

    @property
    def portfolio(self) -> FakePortfolioRepository:
        return self._storage.portfolio

    @property
    def link_tokens(self) -> FakeLinkTokenRepository:
        return self._storage.link_tokens


@dataclass
class FakeStorage:
    """The factory a service takes (``UnitOfWorkFactory``): a fresh unit per call, over
    repositories every unit shares; ``units`` keeps them for the tests to inspect."""

    staff: FakeStaffRepository = field(default_factory=FakeStaffRepository)
    audit: FakeAuditLog = field(default_factory=FakeAuditLog)
    portfolio: FakePortfolioRepository = field(default_factory=FakePortfolioRepository)
    link_tokens: FakeLinkTokenRepository = field(default_factory=FakeLinkTokenRepository)
    units: list[FakeUnitOfWork] = field(default_factory=list)

    def __call__(self) -> FakeUnitOfWork:
        unit = FakeUnitOfWork(self)
        self.units.append(unit)
        return unit

    @property
    def commits(self) -> int:
        return sum(unit.committed for unit in self.units)
