"""The follow-up's contact rules: whom and when it may contact, the contacts held back and
the keys that keep a follow-up from being sent twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cadence.calendar import contact_calendar as rules_calendar
from bot.cadence.caps import recent_contacts
from bot.cadence.followup.planning import FOLLOWUP_SEGMENT, FollowUpReport
from bot.clock import Clock
from bot.contact_rules import SkipReason, cap_reason
from bot.policies import PolicyBook
from bot.storage import models as db
from bot.storage.cadence_models import ContactDecision
from bot.storage.dialect import upsert_into
from bot.storage.tables import table_of
from bot.storage.uow import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outreach:
    """One follow-up contact: its key, what it is, and where a decision not to make it is filed."""

    key: str  # ``followup_events.key``, e.g. ``installment:12:remind``
    kind: str  # remind | followup | notice (bot.cadence.caps.FOLLOWUP_CONTACT_KINDS)
    template: str  # the first message's template; the decision's ``cadence``
    ref_id: int  # the installment, promise or agreement; the decision's ``step``
    debt_id: int | None  # the debt the decision is filed under


@dataclass(frozen=True)
class Reach:
    contact: db.Contact
    at: datetime  # inside the contact's window


class FollowUpContacts:
    """The contact rules of :class:`~bot.cadence.followup.service.FollowUpService`, which adds
    the decisions and the sending."""

    def __init__(self, policies: PolicyBook, clock: Clock) -> None:
        self._policies = policies
        self._clock = clock

    async def _reach(self, uow: UnitOfWork, debtor_id: int, outreach: Outreach, day: date,
                     report: FollowUpReport) -> Reach | None:
        """The contact and the moment the follow-up may use on ``day``; else why not, recorded
        as a decision not to contact (it is tried again on the next contact day)."""
        session = uow.session
        debtor = await session.get(db.Debtor, debtor_id)
        assert debtor is not None
        policy = self._policies[debtor.creditor_id]
        reason, contact = await self._reachable_contact(session, debtor_id)
        at: datetime | None = None
        if contact is not None:
            zone = contact.timezone or debtor.timezone or policy.creditor.timezone
            verdict = rules_calendar(policy, day).decide_day(day, zone, self._clock.now())
            reason, at = verdict.reason, verdict.at
        if reason is None:
            made = (await session.execute(recent_contacts(day, debtor_ids=[debtor_id]))).first()
            today, week = (int(made.today), int(made.week)) if made is not None else (0, 0)
            reason = cap_reason(policy.contact_rules.max_contacts, today, week)
        if reason is not None or contact is None or at is None:
            reason = reason or SkipReason.NO_CHANNEL
            await self._hold(session, debtor, outreach, reason, day)
            report.held.append({"debtor": debtor.external_id, "key": outreach.key, "reason": reason.value})
            return None
        return Reach(contact, at)

    async def _reachable_contact(self, session: AsyncSession, debtor_id: int
                                 ) -> tuple[SkipReason | None, db.Contact | None]:
        """The active contact the debtor last wrote from (else the first active one), or why
        there is none: a person owns a conversation, a contact opted out, is the wrong person."""
        rows = (await session.execute(
            select(db.Contact, db.Conversation.state, db.Conversation.last_inbound_at)
            .outerjoin(db.Conversation, db.Conversation.contact_id == db.Contact.id)
            .where(db.Contact.debtor_id == debtor_id).order_by(db.Contact.id))).all()
        if any(state == db.ConversationState.HUMAN for _, state, _ in rows):
            return SkipReason.HUMAN, None
        usable = [(contact, last) for contact, state, last in rows
                  if contact.status == db.ContactStatus.ACTIVE and state in (None, db.ConversationState.BOT)]
        if usable:
            epoch = datetime.min.replace(tzinfo=ZoneInfo("UTC"))
            return None, max(usable, key=lambda r: (r[1] or epoch, -r[0].id))[0]
        statuses = {contact.status for contact, _, _ in rows}
        if db.ContactStatus.OPTED_OUT in statuses or any(s == db.ConversationState.OPTED_OUT
                                                         for _, s, _ in rows):
            return SkipReason.OPTED_OUT, None
        if db.ContactStatus.WRONG_PERSON in statuses:
            return SkipReason.WRONG_PERSON, None
        return SkipReason.NO_CHANNEL, None

    async def _filed_under(self, uow: UnitOfWork, debtor_id: int,
                           agreement: db.Agreement | None = None) -> int | None:
        """The debt a decision about this follow-up is filed under: the agreement's first debt,
        else the debtor's oldest."""
        if agreement is not None and agreement.debts:
            return min(d.id for d in agreement.debts)
        found: int | None = await uow.session.scalar(
            select(db.Debt.id).where(db.Debt.debtor_id == debtor_id)
            .order_by(db.Debt.due_date, db.Debt.id).limit(1))
        return found

    async def _hold(self, session: AsyncSession, debtor: db.Debtor, outreach: Outreach, reason: SkipReason,
                    day: date) -> None:
        """Record the decision not to contact (one row per follow-up and reason, its days counted)."""
        logger.info("follow-up %s of %s held back: %s", outreach.key, debtor.external_id, reason.value)
        if outreach.debt_id is None:
            return  # a debtor without debts: nothing to file it under
        now = self._clock.now()
        table = table_of(ContactDecision)
        statement = upsert_into(session, table).values(
            creditor_id=debtor.creditor_id, debtor_id=debtor.id, debt_id=outreach.debt_id,
            segment=FOLLOWUP_SEGMENT, cadence=outreach.template, step=outreach.ref_id,
            template=outreach.template, reason=reason.value, detail=outreach.key[:64],
            first_day=day, last_day=day, days=1, created_at=now, updated_at=now)
        excluded = statement.excluded
        await session.execute(statement.on_conflict_do_update(
            index_elements=["debt_id", "cadence", "step", "reason"],
            set_={"last_day": excluded.last_day, "days": table.c.days + 1, "updated_at": excluded.updated_at},
            where=table.c.last_day < excluded.last_day))

    async def _claim(self, uow: UnitOfWork, outreach: Outreach, debtor_id: int, day: date) -> bool:
        """Take the follow-up's key (``followup_events``); ``False`` if another run holds it."""
        return await uow.followup_log.claim(outreach.key, outreach.kind, debtor_id, day, self._clock.now())
