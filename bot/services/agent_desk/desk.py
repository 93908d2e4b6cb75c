"""The human agent's actions on a handed-off conversation it holds (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.conversation.outcome import Button, Reply
from bot.negotiation import machine
from bot.negotiation.offers import (
    InfeasiblePlan,
    Limits,
    Offer,
    full_payment_offer,
    installment_offer,
    offer_violations,
)
from bot.policies import PolicyBook
from bot.rendering.renderer import TemplateRenderer
from bot.services.agent_desk.errors import DeskError, TakeConflict
from bot.services.agent_desk.reading import DeskReader
from bot.services.agent_desk.views import ApprovedTemplates
from bot.services.agent_desk.whatsapp_templates import template_choices, template_variables
from bot.services.audit_kinds import AuditKind
from bot.services.conversation import clean_text
from bot.services.negotiation.debtor_file import DebtorFile
from bot.services.negotiation.replies import offer_buttons, offer_variables
from bot.services.negotiation.service import NegotiationService
from bot.services.outgoing import OutgoingMessages, Rendered
from bot.services.portal_links import PortalLinkIssuer
from bot.services.staff_accounts import StaffIdentity
from bot.storage import models as db
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

MAX_REPLY_CHARS = 4000


@runtime_checkable
class ConversationResumer(Protocol):
    """The part of the dialogue engine hand back needs (Rasa: ``ConversationResumed``)."""

    async def resume(self, conversation_id: str, slots: dict[str, Any] | None = None) -> None: ...


class AgentDesk(DeskReader):
    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook,
                 clock: Clock, negotiation: NegotiationService, renderer: TemplateRenderer,
                 outgoing: OutgoingMessages, resumer: ConversationResumer | None) -> None:
        super().__init__(uow, policies, clock, negotiation, renderer, outgoing)
        self._resumer = resumer

    # -- taking -----------------------------------------------------------------------------

    async def take(self, staff: StaffIdentity, public_id: str) -> None:
        async with self._uow() as uow:
            await self._take_in(uow, staff, await self._file(uow, public_id))
            await uow.commit()

    async def _take_in(self, uow: UnitOfWork, staff: StaffIdentity, file: DebtorFile) -> None:
        """Assign the conversation to ``staff`` inside ``uow`` (the caller commits); nothing to
        do when it holds it already, ``TakeConflict`` when another agent does."""
        if file.conversation.state != db.ConversationState.HUMAN:
            raise DeskError("this conversation is with the bot; nothing to take")
        holder = await self._holder(uow, file.conversation.id)
        if holder is not None:
            if holder == staff.name:
                return
            raise TakeConflict(f"already taken by {holder}")
        try:
            await uow.desk.assign(file.conversation.id, staff.user_id, self._clock.now())
        except IntegrityError as exc:  # another agent won the race
            await uow.rollback()
            raise TakeConflict("already taken by another agent") from exc
        await self._audit(uow, file, staff, AuditKind.CONVERSATION_TAKEN)

    # -- actions of the agent who holds the conversation --------------------------------------

    async def reply(self, staff: StaffIdentity, public_id: str, text: str, *,
                    take: bool = False) -> None:
        """Send ``text`` to the debtor. With ``take``, a conversation waiting in the queue that
        nobody holds is taken first, in the same transaction ("take on reply"): of two agents
        replying at once, the ``conversation_assignments`` key lets one win; the other gets
        "already taken by …" and nothing is sent."""
        text = clean_text(text).strip()[:MAX_REPLY_CHARS]
        if not text:
            raise DeskError("empty reply")
        async with self._uow() as uow:
            if take:
                await self._take_in(uow, staff, await self._file(uow, public_id))
            file = await self._held(uow, staff, public_id)
            self._require_window(file.conversation)
            message = await self._send(uow, file, Rendered(text))
            await self._audit(uow, file, staff, AuditKind.AGENT_REPLY,
                              {"message_id": message.id, "chars": len(text)})
            await uow.commit()

    async def send_template(self, staff: StaffIdentity, public_id: str, name: str,
                            approved: ApprovedTemplates) -> None:
        """Send an approved WhatsApp template (the only thing allowed outside the 24-hour
        window): stored as an agent message and queued with its template name, locale and
        variables, so the outbox sends it by its Content SID."""
        async with self._uow() as uow:
            file = await self._held(uow, staff, public_id)
            if file.conversation.channel != "whatsapp":
                raise DeskError("approved templates are for WhatsApp conversations: write a reply")
            debts = await self._debt_lines(uow, file.debtor)
            choices = template_choices(file, approved, debts, self._renderer, self._locale(file))
            choice = next((c for c in choices if c.name == name), None)
            if choice is None:
                raise DeskError(f"no approved WhatsApp template {name!r} for {self._locale(file)}")
            if choice.error:
                raise DeskError(f"{name}: {choice.error}")
            variables = template_variables(file, debts)
            message = await self._send(uow, file, Rendered(choice.preview, template=name,
                                                               variables=variables))
            await self._audit(uow, file, staff, AuditKind.AGENT_REPLY, {
                "message_id": message.id, "chars": len(choice.preview), "template": name,
                "locale": self._locale(file), "content_sid": choice.content_sid})
            await uow.commit()

    async def send_portal_link(self, staff: StaffIdentity, public_id: str,
                               links: PortalLinkIssuer) -> None:
        """Issue a new portal link (``agent:<name>``) and send it to the debtor as the
        ``portal_link_sent`` message, through the one outgoing path; audited."""
        async with self._uow() as uow:
            file = await self._held(uow, staff, public_id)
            self._require_window(file.conversation)
            issued = await links.issue(uow, file.debtor, file.contact, staff.actor)
            if issued is None:
                raise DeskError("portal links are off on this server (ACORDO_LINK_SECRET unset)")
            link, url = issued
            variables = {"contact_name": file.common.get("contact_name", ""), "portal_link": url}
            message = await self._send(uow, file, Reply("portal_link_sent", variables))
            await self._audit(uow, file, staff, AuditKind.AGENT_REPLY, {
                "message_id": message.id, "template": "portal_link_sent", "link": link.id})
            await uow.commit()

    async def offer(self, staff: StaffIdentity, public_id: str, *, kind: str, count: int = 1,
                    discount_percent: Decimal = Decimal("0"),
                    down_payment: Decimal | None = None) -> Offer:
        """Build an offer within the agent limits, send it, mark it in the audit log."""
        async with self._uow() as uow:
            file = await self._held(uow, staff, public_id)
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
            agreements = uow.agreements
            await agreements.mark_offers(file.conversation.id, "proposed", "superseded")
            await agreements.add_offer(conversation_id=file.conversation.id,
                                       debtor_id=file.debtor.id, offer=offer)
            await self._audit(uow, file, staff, AuditKind.AGENT_OFFER, {
                "kind": offer.kind, "total": str(offer.total), "count": offer.count,
                "discount_percent": str(offer.discount_percent),
                "beyond_bot_limits": bool(beyond), "bot_limits_crossed": list(beyond)})
            state = file.state.model_copy(update={
                "stage": machine.Stage.OFFERED, "current_offer": offer,
                ("last_discount_offer" if offer.kind == "full_payment"
                 else "last_installment_offer"): offer})
            file.conversation.negotiation = state.model_dump(mode="json")
            template = "offer_full_payment" if offer.kind == "full_payment" else "offer_installments"
            await self._send_template(uow, file, template,
                                      {**file.common, "offer": offer_variables(offer),
                                       "reason": "agent_offer"}, offer_buttons(offer),
                                      author="agent")
            await uow.commit()
            return offer

    async def record_agreement(self, staff: StaffIdentity, public_id: str) -> None:
        """The debtor accepted the latest offer (told the agent): record the agreement."""
        async with self._uow() as uow:
            file = await self._held(uow, staff, public_id)
            agreements = uow.agreements
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
            await self._audit(uow, file, staff, AuditKind.AGENT_AGREEMENT, {
                "agreement_id": agreement.id, "kind": row.kind, "total": str(row.total),
                "count": len(row.installments)})
            await self._send_template(uow, file, "agreement_created",
                                      {**file.common, "offer": offer_variables(current),
                                       "pix_key": file.policy.creditor.pix_key}, author="agent")
            await uow.commit()

    async def record_promise(self, staff: StaffIdentity, public_id: str, when: date) -> None:
        async with self._uow() as uow:
            file = await self._held(uow, staff, public_id)
            if when < file.today:
                raise DeskError("the promised date is in the past")
            # A promises row like the bot's: reminded the day before, checked after the grace
            # days by the follow-up, and counted in the dashboard's promise-kept rate.
            promise = await uow.promises.add(
                debtor_id=file.debtor.id, promised_date=when, balance=file.balance,
                conversation_id=file.conversation.id, at=self._clock.now())
            await self._audit(uow, file, staff, AuditKind.PROMISE_TO_PAY,
                              {"date": when.isoformat(), "balance": str(file.balance),
                               "promise_id": promise.id})
            await self._send_template(uow, file, "promise_recorded",
                                      {**file.common, "date": when, "balance": promise.target,
                                       "pix_key": file.policy.creditor.pix_key}, author="agent")
            await uow.commit()

    async def mark_dispute(self, staff: StaffIdentity, public_id: str, reason: str) -> None:
        async with self._uow() as uow:
            file = await self._held(uow, staff, public_id)
            for debt in file.debts:
                debt.status = db.DebtStatus.DISPUTED.value
            await self._audit(uow, file, staff, AuditKind.DISPUTE_MARKED,
                              {"debts": [d.external_id for d in file.debts],
                               "reason": clean_text(reason)[:1000]})
            await uow.commit()

    async def add_note(self, staff: StaffIdentity, public_id: str, text: str) -> None:
        text = clean_text(text).strip()[:MAX_REPLY_CHARS]
        if not text:
            raise DeskError("empty note")
        async with self._uow() as uow:
            file = await self._file(uow, public_id)  # any agent may annotate
            await uow.desk.add_note(file.conversation.id, staff.user_id, text, self._clock.now())
            await self._audit(uow, file, staff, AuditKind.NOTE_ADDED, {"chars": len(text)})
            await uow.commit()

    async def hand_back(self, staff: StaffIdentity, public_id: str, note: str = "") -> None:
        """Return the conversation to the bot: Rasa resumes, the bot picks up politely."""
        await self._release(staff, public_id, note, greet=True)

    async def close(self, staff: StaffIdentity, public_id: str, note: str = "") -> None:
        """Done with the conversation: back to the bot for later messages; the debtor gets the
        ``conversation_closed`` message (unless WhatsApp's 24-hour window is closed)."""
        await self._release(staff, public_id, note, greet=False)

    async def _release(self, staff: StaffIdentity, public_id: str, note: str, *, greet: bool) -> None:
        async with self._uow() as uow:
            file = await self._held(uow, staff, public_id)
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
            await uow.conversations.set_state(file.conversation, "bot")
            await uow.desk.release(file.conversation.id)
            note = clean_text(note).strip()[:MAX_REPLY_CHARS]
            if note:
                await uow.desk.add_note(file.conversation.id, staff.user_id, note,
                                        self._clock.now())
            kind = AuditKind.HANDED_BACK if greet else AuditKind.CONVERSATION_CLOSED
            await self._audit(uow, file, staff, kind, {"note": bool(note), "stage": stage.value})
            if greet:
                variables = {**file.common, "agreed": agreed, "offer_pending": pending}
                await self._send_template(uow, file, "handback", variables,
                                          offer_buttons(state.current_offer)
                                          if pending and state.current_offer else (), author="bot")
            elif self._window_open(file.conversation):
                await self._send_template(uow, file, "conversation_closed", file.common,
                                          author="agent")
            await uow.commit()

    # -- helpers ------------------------------------------------------------------------------
    async def _held(self, uow: UnitOfWork, staff: StaffIdentity, public_id: str) -> DebtorFile:
        file = await self._file(uow, public_id)
        if file.conversation.state != db.ConversationState.HUMAN:
            raise DeskError("this conversation is with the bot")
        holder = await self._holder(uow, file.conversation.id)
        if holder != staff.name:
            raise DeskError("take the conversation first" if holder is None
                            else f"taken by {holder}")
        return file

    def _require_window(self, conversation: db.Conversation) -> None:
        if not self._window_open(conversation):
            raise DeskError("WhatsApp's 24-hour window is closed: only approved templates may be "
                            "sent until the debtor writes again")

    async def _send_template(self, uow: UnitOfWork, file: DebtorFile, template: str,
                             variables: dict[str, Any], buttons: Sequence[Button] = (), *,
                             author: str) -> None:
        await self._send(uow, file, Reply(template, variables, tuple(buttons)), author=author)

    async def _send(self, uow: UnitOfWork, file: DebtorFile, item: Reply | Rendered, *,
                    author: str = "agent") -> db.Message:
        """Store and queue one message to the conversation's contact (the caller commits); the
        outbox row carries the contact's own locale (an approved template's Content SID)."""
        [queued] = await self._outgoing.queue(
            uow, file.contact, [item], "message:{message}", debtor=file.debtor,
            conversation=file.conversation, author=author, outbox_locale=file.contact.locale)
        return queued.message

    async def _audit(self, uow: UnitOfWork, file: DebtorFile, staff: StaffIdentity,
                     kind: AuditKind, data: dict[str, Any] | None = None) -> None:
        await uow.audit.record(kind, staff.actor, debtor_id=file.debtor.id,
                                       conversation_id=file.conversation.id, data=data or {})
