"""Queueing planned contacts through the one outgoing path, and falling back between channels.

:meth:`ContactQueue.materialize` claims ``planned`` contacts (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) in batches of one transaction each, checks the pauses again, renders the step's
template and queues it (:class:`bot.services.outgoing.OutgoingMessages`: the conversation
message and the outbox row, ``not_before`` = the planned moment, ``initiated_by = bot``, the
contact's idempotency key). A template that shows ``portal_link`` gets a new portal link for
the contact (issued by ``reminder``), except by SMS; without ``ACORDO_LINK_SECRET`` it is
empty. :meth:`ContactQueue.fall_back` gives a contact whose outbox row failed a new attempt
on the step's next channel, or fails it for good.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.calendar import contact_calendar
from bot.cadence.plan import step_of
from bot.clock import Clock
from bot.contact_rules import ChannelChoice, ContactOption, SkipReason, choose_channel
from bot.conversation.outcome import Reply
from bot.negotiation.balance import DebtPosition, balance_on, days_past_due
from bot.policies import PolicyBook
from bot.policies.models import Policy
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.replies import MENU_BUTTONS
from bot.services.outgoing import OutgoingMessages
from bot.services.portal_links import PortalLinkIssuer
from bot.storage import models as db
from bot.storage.cadence_models import CadenceContact, ContactDecision
from bot.storage.cadence_models import CadenceContactStatus as Status
from bot.storage.channel_models import Initiator, OutboxMessage, OutboxStatus
from bot.storage.dialect import claimed, upsert_into
from bot.storage.payment_models import Promise, PromiseStatus
from bot.storage.tables import table_of
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory


def debt_pause(debt: db.Debt) -> str | None:
    """Why the debt itself is not reminded any more (``None`` while it is open and unpaid)."""
    if debt.status == db.DebtStatus.PAID or debt.amount <= debt.paid_amount:
        return SkipReason.PAID.value
    if debt.status == db.DebtStatus.DISPUTED:
        return SkipReason.DISPUTE.value
    if debt.status == db.DebtStatus.IN_AGREEMENT:
        return SkipReason.AGREEMENT.value
    if debt.status != db.DebtStatus.OPEN:
        return str(debt.status)[:24]  # written off (or a status added later): never reminded
    return None


async def paused_debtors(session: AsyncSession, debtor_ids: set[int]) -> dict[int, str]:
    """Debtors whose régua is paused now (agreement, promise, a person), with the reason."""
    paused: dict[int, str] = {}
    for debtor_id in await session.scalars(
        select(db.Agreement.debtor_id).where(
            db.Agreement.debtor_id.in_(debtor_ids), db.Agreement.status == db.AgreementStatus.ACTIVE.value
        )
    ):
        paused[debtor_id] = SkipReason.AGREEMENT.value
    for debtor_id in await session.scalars(
        select(Promise.debtor_id).where(
            Promise.debtor_id.in_(debtor_ids), Promise.status == PromiseStatus.PENDING.value
        )
    ):
        paused[debtor_id] = SkipReason.AGREEMENT.value
    for debtor_id in await session.scalars(
        select(db.Contact.debtor_id)
        .join(db.Conversation, db.Conversation.contact_id == db.Contact.id)
        .where(
            db.Contact.debtor_id.in_(debtor_ids),
            db.Conversation.state == db.ConversationState.HUMAN.value,
        )
    ):
        paused.setdefault(debtor_id, SkipReason.HUMAN.value)
    return paused


def reminder(
    policy: Policy, row: CadenceContact, debt: db.Debt, debtor: db.Debtor, contact: db.Contact,
    portal_link: str = "",
) -> Reply:
    """The step's message for this debt, with its balance on the contact's day (and the
    debtor's portal link, when one was issued for it)."""
    step = step_of(policy, row.cadence, row.step)
    balance = balance_on(
        DebtPosition(
            external_id=debt.external_id,
            principal=debt.amount,
            due_date=debt.due_date,
            paid=debt.paid_amount,
        ),
        row.day,
        policy.charges,
    )
    variables: dict[str, Any] = {
        "creditor_name": policy.creditor.name,
        "debtor_name": debtor.name,
        "contact_name": (contact.name or "").split(" ")[0],
        "creditor_tax_id": policy.creditor.tax_id,
        "pix_key": policy.creditor.pix_key,
        "portal_link": portal_link,
        "today": row.day,
        "balance": balance,
        "total": balance,
        "debts": [
            {
                "external_id": debt.external_id,
                "description": debt.description or "",
                "amount": debt.amount,
                "due_date": debt.due_date,
                "days_past_due": days_past_due(debt.due_date, row.day),
                "balance": balance,
            }
        ],
    }
    buttons = MENU_BUTTONS if step is not None and step.offer_negotiation else ()
    return Reply(row.template, variables, tuple(buttons))


async def record_reminder(
    uow: UnitOfWork,
    row: CadenceContact,
    debt: db.Debt,
    debtor: db.Debtor,
    conversation: db.Conversation,
) -> None:
    """The audit trail's entry of a queued reminder."""
    await uow.audit.record(
        AuditKind.CADENCE_REMINDER,
        "bot",
        debtor_id=debtor.id,
        conversation_id=conversation.id,
        data={
            "debt": debt.external_id,
            "cadence": row.cadence,
            "step": row.step,
            "template": row.template,
            "channel": row.channel,
            "at": row.at.isoformat(),
            "key": row.idempotency_key,
        },
    )


async def plan_attempt(
    session: AsyncSession, row: CadenceContact, contact: ContactOption, zone: str,
    at: datetime, window_end: datetime, now: datetime,
) -> None:
    """The next attempt of ``row``'s contact, on ``contact``'s channel, ``planned`` at ``at``."""
    statement = (
        upsert_into(session, table_of(CadenceContact))
        .values(
            idempotency_key=f"{row.idempotency_key.split('|')[0]}|{contact.channel}",
            creditor_id=row.creditor_id,
            debtor_id=row.debtor_id,
            debt_id=row.debt_id,
            contact_id=contact.contact_id,
            segment=row.segment,
            cadence=row.cadence,
            step=row.step,
            template=row.template,
            channel=contact.channel,
            attempt=row.attempt + 1,
            day=row.day,
            timezone=zone,
            at=at,
            window_end=window_end,
            status=Status.PLANNED.value,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    await session.execute(statement)


class ContactQueue:
    """Planned contacts into the outbox, and failed ones onto the step's next channel."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        policies: PolicyBook,
        outgoing: OutgoingMessages,
        clock: Clock,
        channels_on: Iterable[str],
        *,
        batch: int = 500,
        on_queued: Callable[[], Any] | None = None,
        portal_links: PortalLinkIssuer | None = None,
    ) -> None:
        self._uow = uow
        self._portal_links = portal_links
        self._policies = policies
        self._outgoing = outgoing
        self._clock = clock
        self.channels_on = frozenset(channels_on)
        self._batch = batch
        self._on_queued = on_queued  # e.g. wake the outbox dispatchers

    # -- queueing -----------------------------------------------------------------------

    async def materialize(self, limit: int | None = None) -> int:
        """Turn planned contacts into outbox rows and conversation messages; how many."""
        done = 0
        while limit is None or done < limit:
            size = self._batch if limit is None else min(self._batch, limit - done)
            count = await self._materialize_batch(size)
            done += count
            if count < size:
                break
        if done and self._on_queued is not None:
            self._on_queued()
        return done

    async def _materialize_batch(self, size: int) -> int:
        async with self._uow() as uow:
            query = (
                select(CadenceContact)
                .where(
                    CadenceContact.status == Status.PLANNED.value,
                    # The outbox holds a message until its moment (``not_before``); the web
                    # chat shows one as soon as it is stored, so it is stored at its moment.
                    or_(CadenceContact.channel != db.Channel.WEB.value,
                        CadenceContact.at <= self._clock.now()),
                )
                .order_by(CadenceContact.at, CadenceContact.id)
                .limit(size)
            )
            rows = list(await uow.session.scalars(claimed(uow.session, query)))
            if not rows:
                return 0
            debts = await uow.portfolio.debts_by_id({r.debt_id for r in rows})
            debtors = await uow.portfolio.debtors_by_id({r.debtor_id for r in rows})
            contacts = await uow.portfolio.contacts_by_id({r.contact_id for r in rows})
            paused = await paused_debtors(uow.session, {r.debtor_id for r in rows})
            for row in rows:
                await self._queue_one(
                    uow, row, debts[row.debt_id], debtors[row.debtor_id], contacts[row.contact_id], paused
                )
            await uow.commit()
            return len(rows)

    async def _queue_one(
        self,
        uow: UnitOfWork,
        row: CadenceContact,
        debt: db.Debt,
        debtor: db.Debtor,
        contact: db.Contact,
        paused: dict[int, str],
    ) -> None:
        reason = debt_pause(debt) or paused.get(debtor.id)
        if contact.status != db.ContactStatus.ACTIVE:
            reason = reason or contact.status
        if reason is not None:
            await self._cancel(uow.session, row, reason)
            return
        policy = self._policies.get(debtor.creditor_id)
        if policy is None:
            row.status = Status.CANCELLED.value
            return
        conversation = await uow.conversations.get_or_create(contact)
        if conversation.state != db.ConversationState.BOT:
            human = conversation.state == db.ConversationState.HUMAN
            await self._cancel(uow.session, row, SkipReason.HUMAN.value if human else "opted_out")
            return
        message = await self._with_link(uow, reminder(policy, row, debt, debtor, contact),
                                        debtor, contact)
        [queued] = await self._outgoing.queue(
            uow, contact, [message], row.idempotency_key,
            Initiator.BOT, row.at, not_after=row.window_end, debtor=debtor,
            conversation=conversation, message_key=True,
        )
        if queued.outbox is None:
            row.status = Status.SENT.value  # the web chat shows it on the debtor's next visit
        else:
            row.outbox_id = queued.outbox.id
            row.status = Status.QUEUED.value
        await record_reminder(uow, row, debt, debtor, conversation)

    async def _with_link(self, uow: UnitOfWork, message: Reply, debtor: db.Debtor,
                         contact: db.Contact) -> Reply:
        """``message`` with a new portal link when its template shows one (not by SMS: a
        link is about 250 characters, two segments)."""
        links = self._portal_links
        if links is None or not links.enabled or contact.channel == db.Channel.SMS.value:
            return message
        locale = self._outgoing.locale_of(contact, debtor)
        if not self._outgoing.mentions(message, locale, contact.channel, "portal_link"):
            return message
        url = await links.url_for(uow, debtor, contact, "reminder")
        return replace(message, variables={**message.variables, "portal_link": url})

    async def _cancel(self, session: AsyncSession, row: CadenceContact, reason: str) -> None:
        """Cancel the contact and record why among the decisions not to contact."""
        row.status = Status.CANCELLED.value
        statement = (
            upsert_into(session, table_of(ContactDecision))
            .values(
                creditor_id=row.creditor_id,
                debtor_id=row.debtor_id,
                debt_id=row.debt_id,
                segment=row.segment,
                cadence=row.cadence,
                step=row.step,
                template=row.template,
                reason=reason[:24],
                detail="cancelled",
                first_day=row.day,
                last_day=row.day,
                days=1,
                created_at=self._clock.now(),
                updated_at=self._clock.now(),
            )
            .on_conflict_do_nothing()
        )
        await session.execute(statement)

    # -- falling back -------------------------------------------------------------------

    async def fall_back(self, now: datetime) -> tuple[int, int]:
        """A contact whose outbox row failed tries the step's next channel (or fails for good)."""
        fell_back = failed = 0
        async with self._uow() as uow:
            for row in await self._failed(uow.session):
                if await self._try_next_channel(uow, row, now):
                    fell_back += 1
                else:
                    row.status = Status.FAILED.value
                    failed += 1
            await uow.commit()
        if fell_back:
            await self.materialize()
        return fell_back, failed

    async def _failed(self, session: AsyncSession) -> list[CadenceContact]:
        """Queued contacts whose outbox row failed (claimed, one batch)."""
        outbox = table_of(OutboxMessage)
        query = (
            select(CadenceContact)
            .where(
                CadenceContact.status == Status.QUEUED.value,
                CadenceContact.outbox_id.in_(
                    select(outbox.c.id).where(outbox.c.status == OutboxStatus.FAILED.value)
                ),
            )
            .limit(self._batch)
        )
        return list(await session.scalars(claimed(session, query)))

    async def _try_next_channel(self, uow: UnitOfWork, row: CadenceContact, now: datetime) -> bool:
        """Plan the attempt on the step's next channel at its next allowed moment; ``False``
        (the contact fails) when no channel is left or no moment is allowed."""
        policy = self._policies.get(row.creditor_id)
        choice = await self._next_channel(uow, row, policy)
        if choice is None or choice.contact is None or policy is None:
            return False
        zone = choice.contact.timezone or row.timezone
        calendar = contact_calendar(policy, row.day)
        at = calendar.next_allowed(max(now, row.at), zone)
        if at is None:
            return False
        slot = calendar.slot(at.astimezone(ZoneInfo(zone)).date(), zone)
        row.status = Status.FELL_BACK.value
        await plan_attempt(uow.session, row, choice.contact, zone, at, slot.end if slot else at, now)
        return True

    async def _next_channel(
        self, uow: UnitOfWork, row: CadenceContact, policy: Policy | None
    ) -> ChannelChoice | None:
        """The step's next channel after ``row``'s with a contact of the debtor."""
        step = step_of(policy, row.cadence, row.step) if policy is not None else None
        options = [
            ContactOption(c.id, c.channel, c.status, c.timezone)
            for c in await uow.portfolio.contacts_for(row.debtor_id)
        ]
        if step is None:
            return None
        after = step.channels.index(row.channel) if row.channel in step.channels else -1
        return choose_channel(step.channels, options, self.channels_on, after_rank=after)

