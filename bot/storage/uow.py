"""The unit of work: one transaction per command, with the repositories hanging off it.

A service takes a :data:`UnitOfWorkFactory` and opens one unit per command::

    async with self._uow() as uow:
        contact = await uow.portfolio.find_contact(channel, address)
        ...
        await uow.commit()

Leaving the block without :meth:`UnitOfWork.commit` rolls back: a command either lands
whole or not at all. What the block read stays readable after it (detached, not expired).
The repositories share the unit's session; reports and bulk SQL that no repository holds
use :attr:`UnitOfWork.session` directly, inside the same transaction. A unit is used once
(the factory makes a fresh one per command). Modelled on cosmicpython's unit of work
(docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.cadence_repository import CadenceContactRepository
from bot.storage.channel_repositories import (
    InboundUpdateRepository,
    LinkTokenRepository,
    OutboxRepository,
)
from bot.storage.payment_repositories import (
    ChargeRepository,
    FollowUpLog,
    PaymentRepository,
    PromiseRepository,
)
from bot.storage.repositories.agreements import AgreementRepository
from bot.storage.repositories.audit import AuditLog
from bot.storage.repositories.claims import ClaimRepository
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.desk import DeskRepository
from bot.storage.repositories.portal_links import PortalLinkRepository
from bot.storage.repositories.portfolio import PortfolioRepository
from bot.storage.repositories.staff import StaffRepository
from bot.storage.repositories.template_versions import TemplateVersionRepository


class UnitOfWork:
    """One transaction over the database (see the module's docstring)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._used = False

    async def __aenter__(self) -> Self:
        if self._used:
            raise RuntimeError("a unit of work is used once; ask the factory for another")
        self._used = True
        self._session = self._sessions()
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        # Closing rolls back whatever was not committed and releases the connection; the
        # objects read stay readable (detached, not expired) for the caller to return.
        await self.session.close()

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open (use 'async with')")
        return self._session

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    # -- the repositories -----------------------------------------------------------------

    @cached_property
    def portfolio(self) -> PortfolioRepository:
        return PortfolioRepository(self.session)

    @cached_property
    def conversations(self) -> ConversationRepository:
        return ConversationRepository(self.session)

    @cached_property
    def agreements(self) -> AgreementRepository:
        return AgreementRepository(self.session)

    @cached_property
    def payments(self) -> PaymentRepository:
        return PaymentRepository(self.session)

    @cached_property
    def promises(self) -> PromiseRepository:
        return PromiseRepository(self.session)

    @cached_property
    def claims(self) -> ClaimRepository:
        return ClaimRepository(self.session)

    @cached_property
    def charges(self) -> ChargeRepository:
        return ChargeRepository(self.session)

    @cached_property
    def followup_log(self) -> FollowUpLog:
        return FollowUpLog(self.session)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.session)

    @cached_property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.session)

    @cached_property
    def inbound_updates(self) -> InboundUpdateRepository:
        return InboundUpdateRepository(self.session)

    @cached_property
    def link_tokens(self) -> LinkTokenRepository:
        return LinkTokenRepository(self.session)

    @cached_property
    def portal_links(self) -> PortalLinkRepository:
        return PortalLinkRepository(self.session)

    @cached_property
    def cadence_contacts(self) -> CadenceContactRepository:
        return CadenceContactRepository(self.session)

    @cached_property
    def staff(self) -> StaffRepository:
        return StaffRepository(self.session)

    @cached_property
    def desk(self) -> DeskRepository:
        return DeskRepository(self.session)

    @cached_property
    def template_versions(self) -> TemplateVersionRepository:
        return TemplateVersionRepository(self.session)


UnitOfWorkFactory = Callable[[], UnitOfWork]


def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> UnitOfWorkFactory:
    """The factory services take: a fresh :class:`UnitOfWork` over ``sessions`` per call."""
    return lambda: UnitOfWork(sessions)
