"""A processor's claim on one stored inbound update, carried by the units of work that process it.

The claim is taken inside the first unit of work that writes for the update (the
conversation storing the debtor's message), so claiming and storing commit together; the
"processed" mark is written inside the last (the replies queued), so the replies and the
mark commit together. Until a unit has taken it, nothing was written for the update; a
unit that cannot take it (another process holds it) raises :class:`UpdateTaken` and rolls
back. A handler that acts before any unit of ours does (answers a button press, leaves a
group, redeems a link) calls :meth:`UpdateClaim.secure` first: the claim in its own commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.storage.channel_models import InboundStatus
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory


class UpdateTaken(Exception):
    """Another process holds (or has finished) the update."""


class UpdateClaim:
    """The claim on update ``update_id``: taken once, settled once (see the module's docstring)."""

    def __init__(self, uow: UnitOfWorkFactory, update_id: int, clock: Clock, lease: timedelta) -> None:
        self._uow = uow
        self.update_id = update_id
        self._clock = clock
        self._lease = lease
        self.attempt: int | None = None  # the claim's attempt number, once its unit committed
        self._taking: tuple[UnitOfWork, int] | None = None  # the unit that took it, not committed yet
        self.settled = False             # a unit wrote the "processed" mark

    async def take(self, uow: UnitOfWork) -> None:
        """Claim the update inside ``uow`` (a no-op once taken); :class:`UpdateTaken` if another
        process holds it. The claim holds once ``uow`` commits."""
        if self.attempt is not None or self._attempt_in(uow) is not None:
            return
        now = self._clock.now()
        row = await uow.inbound_updates.claim(now, now + self._lease, self.update_id)
        if row is None:
            raise UpdateTaken(f"inbound update {self.update_id} is held by another process")
        self._taking = (uow, row.attempts)
        event.listen(uow.session.sync_session, "after_commit", self._committed, once=True)

    def _committed(self, session: Session) -> None:
        if self._taking is not None:
            self.attempt, self._taking = self._taking[1], None

    def _attempt_in(self, uow: UnitOfWork) -> int | None:
        if self._taking is not None and self._taking[0] is uow:
            return self._taking[1]
        return self.attempt

    async def secure(self) -> None:
        """Take the claim in a commit of its own (before acting outside our units of work)."""
        async with self._uow() as uow:
            await self.take(uow)
            await uow.commit()

    async def settle(self, uow: UnitOfWork) -> None:
        """Mark the update processed inside ``uow`` (the unit that stores its last result)."""
        if self.settled:
            return
        await self.take(uow)
        self.settled = await self.finish(uow, InboundStatus.PROCESSED, None)

    async def finish(self, uow: UnitOfWork, status: InboundStatus, error: str | None) -> bool:
        """Record ``status`` inside ``uow`` if we hold the update or it is free to claim."""
        at: datetime = self._clock.now()
        return await uow.inbound_updates.finish(self.update_id, status, at, error,
                                                self._attempt_in(uow))
