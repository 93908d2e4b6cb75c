"""The régua (cadence) dispatcher: plan a day's contacts set-wise, queue them, follow them up.

- :meth:`CadenceService.preview` — what would be done on a day and why not (no writes).
- :meth:`CadenceService.schedule` — the same decision, written set-wise: contacts to make
  go to ``cadence_contacts`` (status ``planned``, a deterministic idempotency key
  ``cadence:<debt>:<cadence>:<step>:<day>``), decisions not to contact to
  ``contact_decisions`` with their reason. On PostgreSQL an advisory lock per creditor
  serializes concurrent schedulers (the caps stay exact); the unique keys make a re-run
  (or a crashed one run again) change nothing.
- :meth:`CadenceService.materialize` — planned contacts become outbox rows (``not_before``
  = the planned moment, ``initiated_by = bot``) and conversation messages, in batches of
  one transaction each, claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL. The outbox
  row has the same idempotency key, which the channel adapters pass to the provider: a
  worker killed at any point sends nothing twice and loses nothing.
- :meth:`CadenceService.sweep` — follows the outbox: ``sent``; a failed channel falls back
  to the next of the step; a contact whose debt was paid, disputed or agreed (or whose
  debtor is with a person) before it went is cancelled; one whose window closed unsent is
  expired and planned again on the next allowed day.
- :meth:`CadenceService.run` — the loop ``acordo worker`` (and the app, when
  ``ACORDO_CADENCE_IN_APP``) runs: at the first tick of each creditor's local day, the day's
  follow-up of promises and installments (:class:`bot.cadence.followup.FollowUpService`,
  before the régua so its reminders get the day's contact first); schedule each creditor's
  local today every ``ACORDO_CADENCE_SCHEDULE_MINUTES``, materialize, sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.calendar import contact_calendar
from bot.cadence.caps import lock_creditor
from bot.cadence.plan import DuePlanner, PlanRequest, already_paid_since
from bot.cadence.preview import (
    CadencePreview,
    CadenceSummary,
    count_decisions,
    count_made,
    list_decisions,
    list_made,
)
from bot.cadence.queue import ContactQueue
from bot.cadence.schedule import ScheduleResult, write_day
from bot.cadence.sweep import cancel_paused, expire_missed, follow_outbox
from bot.clock import Clock
from bot.contact_rules import ZoneDay, ZoneDays
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.rendering.renderer import TemplateRenderer
from bot.services.outgoing import OutgoingMessages
from bot.services.portal_links import PortalLinkIssuer
from bot.storage.cadence_models import CadenceRun
from bot.storage.dialect import dialect_of
from bot.storage.uow import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class DailyFollowUp(Protocol):
    """The day's follow-up of promises and installment plans (``FollowUpService``)."""

    async def run(self, day: date, *, creditor: str | None = None, dry_run: bool = False) -> Any: ...


class CadenceService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        policies: PolicyBook,
        renderer: TemplateRenderer,
        clock: Clock,
        channels_on: Iterable[str],
        *,
        schedule_every: timedelta = timedelta(minutes=15),
        tick_seconds: float = 30.0,
        batch: int = 500,
        on_queued: Any = None,
        followup: DailyFollowUp | None = None,
        portal_links: PortalLinkIssuer | None = None,
    ) -> None:
        self._uow = uow
        self._policies = policies
        self._clock = clock
        self.channels_on = frozenset(channels_on)
        self._queue = ContactQueue(
            uow, policies, OutgoingMessages(renderer), clock, self.channels_on,
            batch=batch, on_queued=on_queued,  # on_queued: e.g. wake the outbox dispatchers
            portal_links=portal_links,  # reminders whose template shows {{ portal_link }}
        )
        self._schedule_every = schedule_every
        self._tick = tick_seconds
        self._last_schedule: dict[tuple[str, date], datetime] = {}
        self._followup = followup
        self._followed_up: set[tuple[str, date]] = set()  # (creditor, local day) done
        self._followup_tried: dict[tuple[str, date], datetime] = {}

    # -- deciding -----------------------------------------------------------------------

    def _creditors(self, creditor: str | None) -> list[tuple[str, Policy]]:
        if creditor is not None:
            if creditor not in self._policies:
                raise ValueError(f"unknown creditor {creditor!r}: no policies/{creditor}.yaml is loaded")
            return [(creditor, self._policies[creditor])]
        return sorted(self._policies.items())

    def _today(self, policy: Policy) -> date:
        return self._clock.now().astimezone(ZoneInfo(policy.creditor.timezone)).date()

    def _moment(self, policy: Policy, day: date) -> datetime:
        """``now`` for deciding ``day``: the real now on the creditor's today, else the day's start."""
        now = self._clock.now()
        if day == self._today(policy):
            return now
        return datetime.combine(day, time(0), tzinfo=ZoneInfo(policy.creditor.timezone)).astimezone(UTC)

    async def _decision_query(
        self, session: AsyncSession, creditor: str, policy: Policy, day: date, now: datetime
    ) -> Select[Any] | None:
        """The planner's statement for ``day``, with the verdict of every time zone of the
        creditor's portfolio (``None`` when the policy has no régua)."""
        planner = DuePlanner(dialect_of(session))
        if planner.dialect == "postgresql":
            # The statement is a batch over every debt: hash joins, never nested loops over
            # CTE scans (whose row estimates are guesses). For this transaction only.
            await session.execute(text("SET LOCAL enable_nestloop = off"))
        zone_names = [z for z in (await session.scalars(planner.zones(creditor))).all() if z]
        calendar = contact_calendar(policy, day)
        verdicts = ZoneDays(calendar, day, now)
        zones: dict[str, ZoneDay] = {}
        for name in zone_names:
            try:
                zones[name] = verdicts.get(name)
            except (KeyError, ValueError):
                logger.warning("unknown time zone %r in the portfolio of %s", name, creditor)
        since = already_paid_since(
            day, policy.contact_rules.already_paid_pause_days, policy.creditor.timezone
        )
        request = PlanRequest(creditor, policy, day, self.channels_on)
        return planner.decisions(request, zones, now, since)

    async def preview(self, day: date, creditor: str | None = None) -> CadencePreview:
        """What the dispatcher would do on ``day`` (contacts already made that day included)."""
        result = CadencePreview(day)
        await self._read_day(
            day, creditor, lambda session, creditor_id: list_made(session, result, creditor_id, day),
            lambda session, query: list_decisions(session, result, query))
        result.sort()
        return result

    async def summary(self, day: date, creditor: str | None = None) -> CadenceSummary:
        """The preview's counts, aggregated in SQL (the readable view of a large portfolio):
        contacts per (segment, step, template, channel) and not-contacts per (…, reason)."""
        result = CadenceSummary(day)
        await self._read_day(
            day, creditor, lambda session, creditor_id: count_made(session, result, creditor_id, day),
            lambda session, query: count_decisions(session, result, query))
        return result

    async def _read_day(self, day: date, creditor: str | None,
                        made: Callable[[AsyncSession, str], Awaitable[None]],
                        decided: Callable[[AsyncSession, Select[Any]], Awaitable[None]]) -> None:
        """Per creditor, in one unit: the contacts made on ``day``, then the planner's decisions."""
        async with self._uow() as uow:
            for creditor_id, policy in self._creditors(creditor):
                now = self._moment(policy, day)
                await made(uow.session, creditor_id)
                query = await self._decision_query(uow.session, creditor_id, policy, day, now)
                if query is not None:
                    await decided(uow.session, query)

    # -- scheduling ---------------------------------------------------------------------

    async def schedule(self, day: date | None = None, creditor: str | None = None) -> list[ScheduleResult]:
        """Decide and record the day's contacts (creditor's local today by default)."""
        results = []
        for creditor_id, policy in self._creditors(creditor):
            when = day or self._today(policy)
            results.append(await self._schedule_one(creditor_id, policy, when))
        return results

    async def _schedule_one(self, creditor: str, policy: Policy, day: date) -> ScheduleResult:
        result = ScheduleResult(creditor, day)
        now = self._moment(policy, day)
        async with self._uow() as uow:
            await lock_creditor(uow.session, creditor)  # held until the commit below
            run = CadenceRun(creditor_id=creditor, day=day, started_at=self._clock.now())
            uow.session.add(run)
            query = await self._decision_query(uow.session, creditor, policy, day, now)
            if query is not None:
                result = await write_day(uow.session, query, creditor, day, self._clock)
            run.planned, run.skipped, run.finished_at = result.planned, result.skipped, self._clock.now()
            await uow.commit()
        self._last_schedule[(creditor, day)] = self._clock.now()
        return result

    # -- queueing and following the outbox ----------------------------------------------

    async def materialize(self, limit: int | None = None) -> int:
        """Turn planned contacts into outbox rows and conversation messages; how many."""
        return await self._queue.materialize(limit)

    async def sweep(self) -> dict[str, int]:
        """Sync with the outbox: sent, fallback on failure, cancel paused, expire missed windows."""
        stats = {"sent": 0, "fell_back": 0, "failed": 0, "cancelled": 0, "expired": 0}
        now = self._clock.now()
        async with self._uow() as uow:
            await follow_outbox(uow.session, now, stats)
            stats["cancelled"] += await cancel_paused(uow.session, now)
            stats["expired"] += await expire_missed(uow.session, now)
            await uow.commit()
        fell_back, failed = await self._queue.fall_back(now)
        stats["fell_back"] += fell_back
        stats["failed"] += failed
        return stats

    # -- the loop -----------------------------------------------------------------------

    async def tick(self) -> None:
        """One round: the day's follow-up once per creditor day, schedule each creditor's today
        when due, queue, follow up."""
        now = self._clock.now()
        for creditor_id, policy in self._creditors(None):
            day = self._today(policy)
            await self._follow_up(creditor_id, day, now)
            last = self._last_schedule.get((creditor_id, day))
            if last is None or now - last >= self._schedule_every:
                await self._schedule_one(creditor_id, policy, day)
        await self.materialize()
        await self.sweep()

    async def _follow_up(self, creditor: str, day: date, now: datetime) -> None:
        """Run the creditor's follow-up for its local ``day`` once (this process); a failed run
        is logged and tried again after ``schedule_every`` without holding up the régua. Other
        workers may run it too: its keys and the creditor lock make that send nothing twice."""
        if self._followup is None or (creditor, day) in self._followed_up:
            return
        tried = self._followup_tried.get((creditor, day))
        if tried is not None and now - tried < self._schedule_every:
            return
        self._followup_tried[(creditor, day)] = now
        try:
            await self._followup.run(day, creditor=creditor)
        except Exception:
            logger.exception("follow-up of %s for %s failed; tried again later", creditor, day)
            return
        self._followed_up.add((creditor, day))
        recent = day - timedelta(days=1)  # creditors in other zones may still be on yesterday
        self._followed_up = {k for k in self._followed_up if k[1] >= recent}
        self._followup_tried = {k: v for k, v in self._followup_tried.items() if k[1] >= recent}

    @contextlib.asynccontextmanager
    async def running(self, enabled: bool = True) -> AsyncIterator[None]:
        """Run the loop in the background while the block runs (the app, ``acordo worker``)."""
        if not enabled:
            yield
            return
        stop = asyncio.Event()
        task = asyncio.create_task(self.run(stop))
        try:
            yield
        finally:
            stop.set()
            await task

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until ``stop`` is set (errors are logged and the next tick retries)."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                logger.exception("cadence tick failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._tick)
