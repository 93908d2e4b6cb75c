"""The agent desk's reading side: the queue, a conversation's page and its live updates."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from bot.clock import Clock
from bot.contact_rules.whatsapp import whatsapp_window_open
from bot.negotiation.balance import DebtPosition, balance_on
from bot.negotiation.offers import Limits
from bot.policies import PolicyBook
from bot.rendering.renderer import TemplateRenderer
from bot.services.agent_desk.errors import NotFound
from bot.services.agent_desk.views import (
    AgreementLine,
    ApprovedTemplates,
    ConversationView,
    DebtLine,
    HistoryItem,
    OfferLine,
    QueueItem,
)
from bot.services.agent_desk.whatsapp_templates import template_choices
from bot.services.negotiation.debtor_file import DebtorFile
from bot.services.negotiation.service import NegotiationService
from bot.services.outgoing import OutgoingMessages
from bot.storage import models as db
from bot.storage.staff_models import ConversationNote
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory


class DeskReader:
    """What the agent console reads; :class:`~bot.services.agent_desk.desk.AgentDesk` adds the
    agent's actions."""

    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook,
                 clock: Clock, negotiation: NegotiationService, renderer: TemplateRenderer,
                 outgoing: OutgoingMessages) -> None:
        self._uow = uow
        self._policies = policies
        self._clock = clock
        self._negotiation = negotiation
        self._renderer = renderer
        self._outgoing = outgoing

    # -- reading ----------------------------------------------------------------------------

    async def queue(self, sort: str = "waiting", search: str = "",
                    held_by: str | None = None) -> list[QueueItem]:
        """Conversations with a human: longest waiting first (then largest balance), or by
        balance with ``sort="amount"``; ``search`` (company or contact name, CNPJ with or
        without punctuation, invoice id) and ``held_by`` (a staff name: "mine") narrow it."""
        async with self._uow() as uow:
            rows = await uow.desk.waiting(search[:100], held_by)
            items = [await self._queue_item(uow, c) for c in rows]
        if sort == "amount":
            return sorted(items, key=lambda i: (-i.balance, i.waiting_since))
        return sorted(items, key=lambda i: (i.waiting_since, -i.balance))

    async def _queue_item(self, uow: UnitOfWork, conversation: db.Conversation) -> QueueItem:
        last_agent = await uow.session.scalar(select(func.max(db.Message.id)).where(
            db.Message.conversation_id == conversation.id, db.Message.author == "agent"))
        waiting = await uow.session.scalar(select(func.min(db.Message.created_at)).where(
            db.Message.conversation_id == conversation.id, db.Message.direction == "in",
            db.Message.id > (last_agent or 0)))
        debtor = conversation.contact.debtor
        holder = await self._holder(uow, conversation.id)
        return QueueItem(
            conversation.public_id, debtor.name, conversation.contact.name, conversation.channel,
            conversation.handoff_reason or "", waiting or conversation.updated_at,
            await self._balance(uow, debtor), holder, debtor.creditor_id)

    async def _balance(self, uow: UnitOfWork, debtor: db.Debtor) -> Decimal:
        return sum((line.balance for line in await self._debt_lines(uow, debtor)
                    if line.status in ("open", "disputed")), Decimal("0.00"))

    async def _debt_lines(self, uow: UnitOfWork, debtor: db.Debtor) -> list[DebtLine]:
        policy = self._policies[debtor.creditor_id]
        today = self._clock.now().date()
        debts = await uow.portfolio.debts_for(debtor.id)
        return [DebtLine(d.external_id, d.description, d.amount,
                         balance_on(DebtPosition(external_id=d.external_id, principal=d.amount,
                                                 due_date=d.due_date, paid=d.paid_amount),
                                    today, policy.charges), d.due_date, d.status)
                for d in debts]

    async def _holder(self, uow: UnitOfWork, conversation_id: int) -> str | None:
        return await uow.desk.holder(conversation_id)

    async def view(self, public_id: str, approved: ApprovedTemplates | None = None) -> ConversationView:
        """The conversation page's data; ``approved`` (``Settings.whatsapp_templates``) lists the
        templates an agent may send on WhatsApp once the 24-hour window is closed."""
        async with self._uow() as uow:
            file = await self._file(uow, public_id)
            conversation, debtor = file.conversation, file.debtor
            messages = await uow.conversations.messages(conversation.id)
            notes = await uow.desk.notes(conversation.id)
            history = [HistoryItem(m.id, "message", m.author, m.direction, m.text, m.created_at,
                                   list(m.buttons or [])) for m in messages]
            history += [HistoryItem(n.id, "note", n.user.name, "internal", n.text, n.created_at)
                        for n in notes]
            history.sort(key=lambda h: (h.at, h.kind == "note", h.id))
            offers = await uow.session.scalars(select(db.Offer).where(
                db.Offer.conversation_id == conversation.id).order_by(db.Offer.id.desc()))
            agreements = await uow.agreements.agreements_for(debtor.id)
            debts = await self._debt_lines(uow, debtor)
            window_open = self._window_open(conversation)
            templates = ([] if window_open or conversation.channel != "whatsapp" else
                         template_choices(file, approved or {}, debts, self._renderer,
                                          self._locale(file)))
            return ConversationView(
                public_id=conversation.public_id, state=conversation.state,
                reason=conversation.handoff_reason, channel=conversation.channel,
                address=conversation.address, locale=self._locale(file),
                debtor_name=debtor.name, debtor_external_id=debtor.external_id,
                contact_name=file.contact.name, taken_by=await self._holder(uow, conversation.id),
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
                creditor_id=debtor.creditor_id,
            )

    async def messages_after(self, public_id: str, after: int) -> list[HistoryItem]:
        async with self._uow() as uow:
            conversation = await uow.conversations.by_public_id(public_id)
            if conversation is None:
                return []
            rows = await uow.session.scalars(select(db.Message).where(
                db.Message.conversation_id == conversation.id, db.Message.id > after)
                .order_by(db.Message.id))
            return [HistoryItem(m.id, "message", m.author, m.direction, m.text, m.created_at,
                                list(m.buttons or [])) for m in rows]

    async def live_version(self) -> str:
        """Changes whenever a message, a staff action or a handoff happens (for SSE)."""
        async with self._uow() as uow:
            message = await uow.session.scalar(select(func.max(db.Message.id)))
            audit = await uow.session.scalar(select(func.max(db.AuditEvent.id)))
            note = await uow.session.scalar(select(func.max(ConversationNote.id)))
            return f"{message or 0}.{audit or 0}.{note or 0}"

    # -- helpers ------------------------------------------------------------------------------

    async def _file(self, uow: UnitOfWork, public_id: str) -> DebtorFile:
        file = await self._negotiation.debtor_file(uow, public_id)
        if file is None:
            raise NotFound(f"no conversation {public_id!r}")
        return file

    def _window_open(self, conversation: db.Conversation) -> bool:
        if conversation.channel != "whatsapp":
            return True
        last = conversation.last_inbound_at
        return whatsapp_window_open(last, self._clock.now())

    def _locale(self, file: DebtorFile) -> str:
        return self._outgoing.locale_of(file.contact, file.debtor)
