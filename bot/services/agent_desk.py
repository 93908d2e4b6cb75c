"""The human agent's side of a handed-off conversation.

The bot hands a conversation off (``state = human``, Rasa paused); it then waits in the
queue. An agent takes it (one agent at a time: the ``conversation_assignments`` primary
key refuses a second take), replies through the debtor's channel, makes offers through
the negotiation core with the policy's agent limits, records agreements, promises and
disputes, writes internal notes, and finally hands it back to the bot (Rasa resumes and
the bot greets the debtor again without repeating what was settled) or closes it. On
WhatsApp, outside the 24-hour window, the agent can only send one of the approved
templates of ``ACORDO_WHATSAPP_TEMPLATES`` (its Content SID goes through the outbox).
Every action is in the audit log with actor ``agent:<name>`` (or ``admin:<name>``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from bot.clock import Clock
from bot.config import WhatsAppTemplate
from bot.contact_rules.whatsapp import whatsapp_window_open
from bot.conversation.outcome import Button, Reply
from bot.negotiation import machine
from bot.negotiation.balance import DebtPosition, balance_on, days_past_due
from bot.negotiation.offers import (
    InfeasiblePlan,
    Limits,
    Offer,
    full_payment_offer,
    installment_offer,
    offer_violations,
)
from bot.policies import PolicyBook
from bot.rendering.renderer import TemplateRenderer, TemplateRenderError, UnknownTemplate
from bot.services.audit_kinds import AuditKind
from bot.services.conversation import clean_text
from bot.services.negotiation import DebtorFile, NegotiationService, offer_buttons, offer_variables
from bot.services.outgoing import OutgoingMessages, Rendered
from bot.services.staff_accounts import StaffIdentity
from bot.storage import models as db
from bot.storage.payment_repositories import PromiseRepository
from bot.storage.repositories import AgreementRepository, AuditLog, ConversationRepository
from bot.storage.staff_models import ConversationAssignment, ConversationNote, StaffUser

MAX_REPLY_CHARS = 4000

# ``Settings.whatsapp_templates``: template name -> locale -> approved Content SID (+ variables).
ApprovedTemplates = Mapping[str, Mapping[str, WhatsAppTemplate]]


@runtime_checkable
class ConversationResumer(Protocol):
    """The part of the dialogue engine hand back needs (Rasa: ``ConversationResumed``)."""

    async def resume(self, conversation_id: str, slots: dict[str, Any] | None = None) -> None: ...


class DeskError(Exception):
    """An agent action that cannot be done; the message is shown to the agent."""


class NotFound(DeskError):
    pass


class TakeConflict(DeskError):
    pass


@dataclass(frozen=True)
class QueueItem:
    public_id: str
    debtor_name: str
    contact_name: str
    channel: str
    reason: str
    waiting_since: datetime
    balance: Decimal
    taken_by: str | None


@dataclass(frozen=True)
class HistoryItem:
    id: int
    kind: str  # "message" or "note"
    author: str
    direction: str
    text: str
    at: datetime
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class DebtLine:
    external_id: str
    description: str
    amount: Decimal
    balance: Decimal
    due_date: date
    status: str


@dataclass(frozen=True)
class OfferLine:
    kind: str
    total: Decimal
    discount_percent: Decimal
    count: int
    status: str
    created_by: str
    at: datetime


@dataclass(frozen=True)
class AgreementLine:
    kind: str
    total: Decimal
    status: str
    created_by: str
    installments: list[tuple[int, date, Decimal]]


@dataclass(frozen=True)
class TemplateChoice:
    """An approved WhatsApp template the agent may send, rendered with the debtor's data.

    ``error`` says why it cannot be sent (it does not render with this debtor's data, or the
    outbox would resolve another Content SID); such a choice is shown but refused."""

    name: str
    content_sid: str
    variables: tuple[str, ...]
    preview: str
    error: str = ""


@dataclass(frozen=True)
class ConversationView:
    public_id: str
    state: str
    reason: str | None
    channel: str
    address: str
    locale: str
    debtor_name: str
    debtor_external_id: str
    contact_name: str
    taken_by: str | None
    balance: Decimal
    history: list[HistoryItem]
    debts: list[DebtLine]
    offers: list[OfferLine]
    agreements: list[AgreementLine]
    bot_limits: Limits
    agent_limits: Limits
    whatsapp_window_open: bool
    last_message_id: int
    # WhatsApp with the 24-hour window closed: the approved templates for the debtor's locale.
    templates: list[TemplateChoice] = field(default_factory=list)


class AgentDesk:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], policies: PolicyBook,
                 clock: Clock, negotiation: NegotiationService, renderer: TemplateRenderer,
                 outgoing: OutgoingMessages, resumer: ConversationResumer | None) -> None:
        self._sessions = sessions
        self._policies = policies
        self._clock = clock
        self._negotiation = negotiation
        self._renderer = renderer
        self._outgoing = outgoing
        self._resumer = resumer

    # -- reading ----------------------------------------------------------------------------

    async def queue(self, sort: str = "waiting") -> list[QueueItem]:
        """Conversations with a human: longest waiting first (then largest balance), or by
        balance with ``sort="amount"``."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(db.Conversation)
                .options(joinedload(db.Conversation.contact).joinedload(db.Contact.debtor))
                .where(db.Conversation.state == db.ConversationState.HUMAN.value))
            items = [await self._queue_item(session, c) for c in rows.unique()]
        if sort == "amount":
            return sorted(items, key=lambda i: (-i.balance, i.waiting_since))
        return sorted(items, key=lambda i: (i.waiting_since, -i.balance))

    async def _queue_item(self, session: AsyncSession, conversation: db.Conversation) -> QueueItem:
        last_agent = await session.scalar(select(func.max(db.Message.id)).where(
            db.Message.conversation_id == conversation.id, db.Message.author == "agent"))
        waiting = await session.scalar(select(func.min(db.Message.created_at)).where(
            db.Message.conversation_id == conversation.id, db.Message.direction == "in",
            db.Message.id > (last_agent or 0)))
        debtor = conversation.contact.debtor
        holder = await self._holder(session, conversation.id)
        return QueueItem(
            conversation.public_id, debtor.name, conversation.contact.name, conversation.channel,
            conversation.handoff_reason or "", waiting or conversation.updated_at,
            await self._balance(session, debtor), holder)

    async def _balance(self, session: AsyncSession, debtor: db.Debtor) -> Decimal:
        return sum((line.balance for line in await self._debt_lines(session, debtor)
                    if line.status in ("open", "disputed")), Decimal("0.00"))

    async def _debt_lines(self, session: AsyncSession, debtor: db.Debtor) -> list[DebtLine]:
        policy = self._policies[debtor.creditor_id]
        today = self._clock.now().date()
        debts = await session.scalars(select(db.Debt).where(db.Debt.debtor_id == debtor.id)
                                      .order_by(db.Debt.due_date, db.Debt.id))
        return [DebtLine(d.external_id, d.description, d.amount,
                         balance_on(DebtPosition(external_id=d.external_id, principal=d.amount,
                                                 due_date=d.due_date, paid=d.paid_amount),
                                    today, policy.charges), d.due_date, d.status)
                for d in debts]

    async def _holder(self, session: AsyncSession, conversation_id: int) -> str | None:
        return await session.scalar(
            select(StaffUser.name).join(ConversationAssignment,
                                        ConversationAssignment.user_id == StaffUser.id)
            .where(ConversationAssignment.conversation_id == conversation_id))

    async def view(self, public_id: str, approved: ApprovedTemplates | None = None) -> ConversationView:
        """The conversation page's data; ``approved`` (``Settings.whatsapp_templates``) lists the
        templates an agent may send on WhatsApp once the 24-hour window is closed."""
        async with self._sessions() as session:
            file = await self._file(session, public_id)
            conversation, debtor = file.conversation, file.debtor
            messages = await ConversationRepository(session).messages(conversation.id)
            notes = await session.scalars(
                select(ConversationNote).options(joinedload(ConversationNote.user))
                .where(ConversationNote.conversation_id == conversation.id))
            history = [HistoryItem(m.id, "message", m.author, m.direction, m.text, m.created_at,
                                   list(m.buttons or [])) for m in messages]
            history += [HistoryItem(n.id, "note", n.user.name, "internal", n.text, n.created_at)
                        for n in notes]
            history.sort(key=lambda h: (h.at, h.kind == "note", h.id))
            offers = await session.scalars(select(db.Offer).where(
                db.Offer.conversation_id == conversation.id).order_by(db.Offer.id.desc()))
            agreements = await AgreementRepository(session).agreements_for(debtor.id)
            debts = await self._debt_lines(session, debtor)
            window_open = self._window_open(conversation)
            templates = ([] if window_open or conversation.channel != "whatsapp" else
                         self._template_choices(file, approved or {}, debts))
            return ConversationView(
                public_id=conversation.public_id, state=conversation.state,
                reason=conversation.handoff_reason, channel=conversation.channel,
                address=conversation.address, locale=self._locale(file),
                debtor_name=debtor.name, debtor_external_id=debtor.external_id,
                contact_name=file.contact.name, taken_by=await self._holder(session, conversation.id),
                balance=file.balance, history=history, debts=debts,
                offers=[OfferLine(o.kind, o.total, o.discount_percent, len(o.installments), o.status,
                                  o.created_by, o.created_at) for o in offers],
                agreements=[AgreementLine(a.kind, a.total, a.status, a.created_by,
                                          [(i.number, i.due_date, i.amount) for i in a.installments])
                            for a in agreements],
                bot_limits=Limits.for_bot(file.profile),
                agent_limits=Limits.for_agent(file.profile, file.policy.handoff.agent_limits),
                whatsapp_window_open=window_open,
                last_message_id=max((m.id for m in messages), default=0),
                templates=templates,
            )

    async def messages_after(self, public_id: str, after: int) -> list[HistoryItem]:
        async with self._sessions() as session:
            conversation = await ConversationRepository(session).by_public_id(public_id)
            if conversation is None:
                return []
            rows = await session.scalars(select(db.Message).where(
                db.Message.conversation_id == conversation.id, db.Message.id > after)
                .order_by(db.Message.id))
            return [HistoryItem(m.id, "message", m.author, m.direction, m.text, m.created_at,
                                list(m.buttons or [])) for m in rows]

    async def live_version(self) -> str:
        """Changes whenever a message, a staff action or a handoff happens (for SSE)."""
        async with self._sessions() as session:
            message = await session.scalar(select(func.max(db.Message.id)))
            audit = await session.scalar(select(func.max(db.AuditEvent.id)))
            note = await session.scalar(select(func.max(ConversationNote.id)))
            return f"{message or 0}.{audit or 0}.{note or 0}"

    # -- taking -----------------------------------------------------------------------------

    async def take(self, staff: StaffIdentity, public_id: str) -> None:
        async with self._sessions() as session:
            file = await self._file(session, public_id)
            if file.conversation.state != db.ConversationState.HUMAN:
                raise DeskError("this conversation is with the bot; nothing to take")
            holder = await self._holder(session, file.conversation.id)
            if holder is not None:
                if holder == staff.name:
                    return
                raise TakeConflict(f"already taken by {holder}")
            session.add(ConversationAssignment(conversation_id=file.conversation.id,
                                               user_id=staff.user_id, taken_at=self._clock.now()))
            try:
                await session.flush()
            except IntegrityError as exc:  # another agent won the race
                await session.rollback()
                raise TakeConflict("already taken by another agent") from exc
            await self._audit(session, file, staff, AuditKind.CONVERSATION_TAKEN)
            await session.commit()

    # -- actions of the agent who holds the conversation --------------------------------------

    async def reply(self, staff: StaffIdentity, public_id: str, text: str) -> None:
        text = clean_text(text).strip()[:MAX_REPLY_CHARS]
        if not text:
            raise DeskError("empty reply")
        async with self._sessions() as session:
            file = await self._held(session, staff, public_id)
            self._require_window(file.conversation)
            message = await self._send(session, file, Rendered(text))
            await self._audit(session, file, staff, AuditKind.AGENT_REPLY,
                              {"message_id": message.id, "chars": len(text)})
            await session.commit()

    async def send_template(self, staff: StaffIdentity, public_id: str, name: str,
                            approved: ApprovedTemplates) -> None:
        """Send an approved WhatsApp template (the only thing allowed outside the 24-hour
        window): stored as an agent message and queued with its template name, locale and
        variables, so the outbox sends it by its Content SID."""
        async with self._sessions() as session:
            file = await self._held(session, staff, public_id)
            if file.conversation.channel != "whatsapp":
                raise DeskError("approved templates are for WhatsApp conversations: write a reply")
            debts = await self._debt_lines(session, file.debtor)
            choice = next((c for c in self._template_choices(file, approved, debts)
                           if c.name == name), None)
            if choice is None:
                raise DeskError(f"no approved WhatsApp template {name!r} for {self._locale(file)}")
            if choice.error:
                raise DeskError(f"{name}: {choice.error}")
            variables = self._template_variables(file, debts)
            message = await self._send(session, file, Rendered(choice.preview, template=name,
                                                               variables=variables))
            await self._audit(session, file, staff, AuditKind.AGENT_REPLY, {
                "message_id": message.id, "chars": len(choice.preview), "template": name,
                "locale": self._locale(file), "content_sid": choice.content_sid})
            await session.commit()

    async def offer(self, staff: StaffIdentity, public_id: str, *, kind: str, count: int = 1,
                    discount_percent: Decimal = Decimal("0"),
                    down_payment: Decimal | None = None) -> Offer:
        """Build an offer within the agent limits, send it, mark it in the audit log."""
        async with self._sessions() as session:
            file = await self._held(session, staff, public_id)
            self._require_window(file.conversation)
            if file.balance <= 0:
                raise DeskError("no open balance to negotiate")
            limits = Limits.for_agent(file.profile, file.policy.handoff.agent_limits)
            try:
                if kind == "full_payment":
                    offer = full_payment_offer(file.balance, discount_percent, file.today, limits)
                else:
                    offer = installment_offer(file.balance, count, file.today, limits,
                                              down_payment=down_payment)
            except InfeasiblePlan as exc:
                raise DeskError("outside the agent limits: " + ", ".join(exc.reasons)) from exc
            except ValueError as exc:
                raise DeskError(f"outside the agent limits: {exc}") from exc
            offer = offer.model_copy(update={"created_by": "agent"})
            beyond = offer_violations(offer, file.today, Limits.for_bot(file.profile))
            agreements = AgreementRepository(session)
            await agreements.mark_offers(file.conversation.id, "proposed", "superseded")
            await agreements.add_offer(conversation_id=file.conversation.id,
                                       debtor_id=file.debtor.id, offer=offer)
            await self._audit(session, file, staff, AuditKind.AGENT_OFFER, {
                "kind": offer.kind, "total": str(offer.total), "count": offer.count,
                "discount_percent": str(offer.discount_percent),
                "beyond_bot_limits": bool(beyond), "bot_limits_crossed": list(beyond)})
            state = file.state.model_copy(update={
                "stage": machine.Stage.OFFERED, "current_offer": offer,
                ("last_discount_offer" if offer.kind == "full_payment"
                 else "last_installment_offer"): offer})
            file.conversation.negotiation = state.model_dump(mode="json")
            template = "offer_full_payment" if offer.kind == "full_payment" else "offer_installments"
            await self._send_template(session, file, template,
                                      {**file.common, "offer": offer_variables(offer),
                                       "reason": "agent_offer"}, offer_buttons(offer),
                                      author="agent")
            await session.commit()
            return offer

    async def record_agreement(self, staff: StaffIdentity, public_id: str) -> None:
        """The debtor accepted the latest offer (told the agent): record the agreement."""
        async with self._sessions() as session:
            file = await self._held(session, staff, public_id)
            agreements = AgreementRepository(session)
            row = await agreements.latest_offer(file.conversation.id, status="proposed")
            current = file.state.current_offer
            if row is None or current is None:
                raise DeskError("no pending offer to record as an agreement")
            limits = Limits.for_agent(file.profile, file.policy.handoff.agent_limits)
            stale = offer_violations(current, file.today, limits)
            if stale:
                raise DeskError("the offer went stale (" + ", ".join(stale) + "): make a new one")
            agreement = await agreements.create_agreement(file.debtor.id, row, file.debts,
                                                          created_by="agent")
            state = file.state.model_copy(update={"stage": machine.Stage.AGREED})
            file.conversation.negotiation = state.model_dump(mode="json")
            await self._audit(session, file, staff, AuditKind.AGENT_AGREEMENT, {
                "agreement_id": agreement.id, "kind": row.kind, "total": str(row.total),
                "count": len(row.installments)})
            await self._send_template(session, file, "agreement_created",
                                      {**file.common, "offer": offer_variables(current),
                                       "pix_key": file.policy.creditor.pix_key}, author="agent")
            await session.commit()

    async def record_promise(self, staff: StaffIdentity, public_id: str, when: date) -> None:
        async with self._sessions() as session:
            file = await self._held(session, staff, public_id)
            if when < file.today:
                raise DeskError("the promised date is in the past")
            # A promises row like the bot's: reminded the day before, checked after the grace
            # days by the follow-up, and counted in the dashboard's promise-kept rate.
            promise = await PromiseRepository(session).add(
                debtor_id=file.debtor.id, promised_date=when, balance=file.balance,
                conversation_id=file.conversation.id, at=self._clock.now())
            await self._audit(session, file, staff, AuditKind.PROMISE_TO_PAY,
                              {"date": when.isoformat(), "balance": str(file.balance),
                               "promise_id": promise.id})
            await self._send_template(session, file, "promise_recorded",
                                      {**file.common, "date": when, "balance": promise.target,
                                       "pix_key": file.policy.creditor.pix_key}, author="agent")
            await session.commit()

    async def mark_dispute(self, staff: StaffIdentity, public_id: str, reason: str) -> None:
        async with self._sessions() as session:
            file = await self._held(session, staff, public_id)
            for debt in file.debts:
                debt.status = db.DebtStatus.DISPUTED.value
            await self._audit(session, file, staff, AuditKind.DISPUTE_MARKED,
                              {"debts": [d.external_id for d in file.debts],
                               "reason": clean_text(reason)[:1000]})
            await session.commit()

    async def add_note(self, staff: StaffIdentity, public_id: str, text: str) -> None:
        text = clean_text(text).strip()[:MAX_REPLY_CHARS]
        if not text:
            raise DeskError("empty note")
        async with self._sessions() as session:
            file = await self._file(session, public_id)  # any agent may annotate
            session.add(ConversationNote(conversation_id=file.conversation.id,
                                         user_id=staff.user_id, text=text,
                                         created_at=self._clock.now()))
            await self._audit(session, file, staff, AuditKind.NOTE_ADDED, {"chars": len(text)})
            await session.commit()

    async def hand_back(self, staff: StaffIdentity, public_id: str, note: str = "") -> None:
        """Return the conversation to the bot: Rasa resumes, the bot picks up politely."""
        await self._release(staff, public_id, note, greet=True)

    async def close(self, staff: StaffIdentity, public_id: str, note: str = "") -> None:
        """Done with the conversation: back to the bot for later messages, nothing sent now."""
        await self._release(staff, public_id, note, greet=False)

    async def _release(self, staff: StaffIdentity, public_id: str, note: str, *, greet: bool) -> None:
        async with self._sessions() as session:
            file = await self._held(session, staff, public_id)
            state = file.state
            pending = state.stage == machine.Stage.OFFERED and state.current_offer is not None
            agreed = state.stage == machine.Stage.AGREED
            stage = machine.Stage.AGREED if agreed else (
                machine.Stage.OFFERED if pending else machine.Stage.OPEN)
            if self._resumer is not None:
                # Raises DialogueUnavailable: the conversation then stays with the agent.
                await self._resumer.resume(file.conversation.public_id, {"offer_pending": pending})
            file.conversation.negotiation = state.model_copy(
                update={"stage": stage, "rounds": 0}).model_dump(mode="json")
            await ConversationRepository(session).set_state(file.conversation, "bot")
            await session.execute(delete(ConversationAssignment).where(
                ConversationAssignment.conversation_id == file.conversation.id))
            note = clean_text(note).strip()[:MAX_REPLY_CHARS]
            if note:
                session.add(ConversationNote(conversation_id=file.conversation.id,
                                             user_id=staff.user_id, text=note,
                                             created_at=self._clock.now()))
            kind = AuditKind.HANDED_BACK if greet else AuditKind.CONVERSATION_CLOSED
            await self._audit(session, file, staff, kind, {"note": bool(note), "stage": stage.value})
            if greet:
                variables = {**file.common, "agreed": agreed, "offer_pending": pending}
                await self._send_template(session, file, "handback", variables,
                                          offer_buttons(state.current_offer)
                                          if pending and state.current_offer else (), author="bot")
            await session.commit()

    # -- helpers ------------------------------------------------------------------------------

    async def _file(self, session: AsyncSession, public_id: str) -> DebtorFile:
        file = await self._negotiation.debtor_file(session, public_id)
        if file is None:
            raise NotFound(f"no conversation {public_id!r}")
        return file

    async def _held(self, session: AsyncSession, staff: StaffIdentity, public_id: str) -> DebtorFile:
        file = await self._file(session, public_id)
        if file.conversation.state != db.ConversationState.HUMAN:
            raise DeskError("this conversation is with the bot")
        holder = await self._holder(session, file.conversation.id)
        if holder != staff.name:
            raise DeskError("take the conversation first" if holder is None
                            else f"taken by {holder}")
        return file

    def _window_open(self, conversation: db.Conversation) -> bool:
        if conversation.channel != "whatsapp":
            return True
        last = conversation.last_inbound_at
        return whatsapp_window_open(last, self._clock.now())

    def _require_window(self, conversation: db.Conversation) -> None:
        if not self._window_open(conversation):
            raise DeskError("WhatsApp's 24-hour window is closed: only approved templates may be "
                            "sent until the debtor writes again")

    def _template_variables(self, file: DebtorFile, debts: Sequence[DebtLine]) -> dict[str, Any]:
        """The debtor's data for an approved template (the names the cadence's templates use)."""
        return {
            **file.common,
            "creditor_tax_id": file.policy.creditor.tax_id,
            "pix_key": file.policy.creditor.pix_key,
            "today": file.today,
            "balance": file.balance,
            "total": file.balance,
            "debts": [{"external_id": d.external_id, "description": d.description or "",
                       "amount": d.amount, "due_date": d.due_date, "balance": d.balance,
                       "days_past_due": days_past_due(d.due_date, file.today)}
                      for d in debts if d.status in ("open", "disputed")],
        }

    def _template_choices(self, file: DebtorFile, approved: ApprovedTemplates,
                          debts: Sequence[DebtLine]) -> list[TemplateChoice]:
        """The approved templates configured for the debtor's locale, rendered for a preview."""
        locale = self._locale(file)
        variables = self._template_variables(file, debts)
        choices = []
        for name in sorted(approved):
            by_locale = approved[name]
            template = by_locale.get(locale)
            if template is None:
                continue
            error = ""
            try:
                preview = self._renderer.render(name, locale, variables, channel="whatsapp")
            except (TemplateRenderError, UnknownTemplate) as exc:
                preview, error = "", f"cannot be rendered with this debtor's data ({exc})"
            missing = [v for v in template.variables if v not in variables]
            if missing and not error:
                error = "its Content variables are not available here: " + ", ".join(missing)
            # The outbox resolves the Content SID by the contact's locale (else the first one).
            resolved = by_locale.get(file.contact.locale or "") or next(iter(by_locale.values()))
            if resolved.sid != template.sid and not error:
                error = (f"the contact has no locale of its own: the outbox would send "
                         f"{resolved.sid} instead")
            choices.append(TemplateChoice(name, template.sid, template.variables, preview, error))
        return choices

    async def _send_template(self, session: AsyncSession, file: DebtorFile, template: str,
                             variables: dict[str, Any], buttons: Sequence[Button] = (), *,
                             author: str) -> None:
        await self._send(session, file, Reply(template, variables, tuple(buttons)), author=author)

    async def _send(self, session: AsyncSession, file: DebtorFile, item: Reply | Rendered, *,
                    author: str = "agent") -> db.Message:
        """Store and queue one message to the conversation's contact (the caller commits); the
        outbox row carries the contact's own locale (an approved template's Content SID)."""
        [queued] = await self._outgoing.queue(
            session, file.contact, [item], "message:{message}", debtor=file.debtor,
            conversation=file.conversation, author=author, outbox_locale=file.contact.locale)
        return queued.message

    async def _audit(self, session: AsyncSession, file: DebtorFile, staff: StaffIdentity,
                     kind: AuditKind, data: dict[str, Any] | None = None) -> None:
        await AuditLog(session).record(kind, staff.actor, debtor_id=file.debtor.id,
                                       conversation_id=file.conversation.id, data=data or {})

    def _locale(self, file: DebtorFile) -> str:
        return self._outgoing.locale_of(file.contact, file.debtor)
