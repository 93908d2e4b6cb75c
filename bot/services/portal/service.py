"""The debtor's portal page: the same negotiation core, limits and records as the chat.

- :meth:`PortalService.page` loads the debtor a valid link names (its web contact's
  conversation, created on first use, as the chat does), the open invoices with their
  balance broken down, the offers the policy allows today (the concession ladder's best
  full payment and every plan within the limits) or the active agreement with its next
  installment's PIX; each view is audited (``portal_viewed``).
- :meth:`PortalService.accept` accepts one of today's offers by its reference: the offer is
  stored and accepted through the negotiation machine, and the agreement recorded by
  :func:`~bot.services.negotiation.agreement_records.record_agreement` (``created_by``
  ``portal``). With an active agreement it creates nothing and answers that agreement.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.web_links import PortalLink
from bot.clock import Clock
from bot.negotiation import machine
from bot.negotiation.balance import DebtPosition, balance_parts
from bot.negotiation.ladder import ConcessionLadder
from bot.negotiation.offers import Limits, Offer
from bot.policies import PolicyBook
from bot.services.audit_kinds import AuditKind
from bot.services.negotiation.agreement_records import record_agreement, store_offer
from bot.services.negotiation.debtor_file import DebtorFile, load_debtor_file
from bot.services.negotiation.hardship import hardship_limits
from bot.services.negotiation.installment_choice import next_open
from bot.services.payment_pictures import instruction_picture, picture_path
from bot.services.payments import PaymentDesk
from bot.services.portal.terms import latest_agreement, terms_of
from bot.services.portal.views import (
    Acceptance,
    AgreementView,
    Invoice,
    PortalPage,
    ScheduleLine,
    TermsDocument,
)
from bot.storage import models as db
from bot.storage.dialect import serialize_on
from bot.storage.models import AgreementStatus, CreatedBy
from bot.storage.tables import table_of
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

PORTAL = CreatedBy.PORTAL.value


class PortalRefused(Exception):
    """Why a portal request is refused: ``unbound`` (the link's contact is gone),
    ``no_such_offer`` (not one of the offers this debtor's page shows today) or
    ``no_agreement`` (no agreement whose terms could be shown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Accepted:
    agreement_id: int
    created: bool  # False: the debtor already had this active agreement


def offers_today(file: DebtorFile) -> tuple[list[Offer], str | None]:
    """The offers the bot's limits allow today (full payment at the largest discount, then
    every feasible plan), or none and why."""
    if file.balance <= 0:
        return [], "nothing_owed"
    threshold = file.policy.handoff.balance_above
    if threshold is not None and file.balance > threshold:
        return [], "talk_to_us"
    ladder = ConcessionLadder(file.balance, file.today, Limits.for_bot(file.profile))
    plans = [ladder.installment_plan(count) for count in ladder.installment_counts]
    return [ladder.max_discount_offer, *plans], None


def pending_offer(file: DebtorFile, offers: list[Offer]) -> Offer | None:
    """The conversation's pending offer made by the bot (the answer to a counter-proposal, on
    the page or in the chat, or the chat's last offer): it can be accepted like today's."""
    current = file.state.current_offer
    if (file.state.stage != machine.Stage.OFFERED or current is None
            or current.created_by != "bot" or file.balance <= 0 or not offers):
        return None
    return current


def invoices(file: DebtorFile) -> list[Invoice]:
    charges = file.policy.charges
    return [Invoice(d.external_id, d.description, d.due_date, balance_parts(
        DebtPosition(external_id=d.external_id, principal=d.amount, due_date=d.due_date,
                     paid=d.paid_amount), file.today, charges)) for d in file.debts]


class PortalService:
    def __init__(self, uow: UnitOfWorkFactory, policies: PolicyBook, clock: Clock,
                 payments: PaymentDesk | None = None) -> None:
        self._uow = uow
        self._policies = policies
        self._clock = clock
        self._payments = payments

    async def _open(self, uow: UnitOfWork, link: PortalLink) -> DebtorFile:
        contact = await linked_contact(uow, link)
        conversation = await uow.conversations.get_or_create(contact)
        file = await load_debtor_file(uow, conversation.public_id, self._policies, self._clock)
        if file is None:
            raise PortalRefused("unbound")
        return file

    async def page(self, link: PortalLink) -> PortalPage:
        """The page of the debtor ``link`` names; the view is audited."""
        async with self._uow() as uow:
            file = await self._open(uow, link)
            agreement = await active_agreement(uow, file.debtor.id)
            offers, no_offers = ([], None) if agreement else offers_today(file)
            pending = None if agreement else pending_offer(file, offers)
            shown = await self._agreement_view(file, agreement) if agreement else None
            await uow.audit.record(
                AuditKind.PORTAL_VIEWED, PORTAL, debtor_id=file.debtor.id,
                conversation_id=file.conversation.id,
                data={"offers": [o.reference for o in offers],
                      "pending": pending.reference if pending else None,
                      "agreement_id": agreement.id if agreement else None})
            await uow.commit()
        creditor = file.policy.creditor
        locale = file.contact.locale or file.debtor.locale
        return PortalPage(creditor.name, creditor.tax_id, file.debtor.name, file.debtor.tax_id or "",
                          locale, file.today, file.contact.timezone or file.debtor.timezone
                          or creditor.timezone, file.balance, invoices(file), offers,
                          no_offers, shown, pending, file.conversation.state,
                          file.contact.status)

    async def accept(self, link: PortalLink, reference: str,
                     acceptance: Acceptance | None = None) -> Accepted:
        """Accept today's offer ``reference``; the active agreement when there is one.
        ``acceptance`` (the link's id, the request's address) goes in the audit record."""
        async with self._uow() as uow:
            file = await self._open(uow, link)
            # Two accepts of one debtor run one after the other: the second sees the first's
            # agreement (bot/storage/dialect.py, on PostgreSQL and on SQLite).
            await serialize_on(uow.session, table_of(db.Debtor), file.debtor.id)
            existing = await active_agreement(uow, file.debtor.id)
            if existing is not None:
                return Accepted(existing.id, created=False)
            offers, _ = offers_today(file)
            pending = pending_offer(file, offers)
            chosen = next((o for o in [*filter(None, [pending]), *offers]
                           if o.reference == reference), None)
            if chosen is None:
                raise PortalRefused("no_such_offer")
            context = machine.NegotiationContext(
                balance=file.balance, today=file.today, limits=Limits.for_bot(file.profile),
                max_rounds=file.profile.max_rounds, hardship_limits=hardship_limits(file))
            offered = file.state.model_copy(update={"stage": machine.Stage.OFFERED,
                                                    "current_offer": chosen})
            state, decisions = machine.decide(offered, machine.Accept(), context)
            if not any(isinstance(d, machine.AgreementReached) for d in decisions):
                raise PortalRefused("no_such_offer")
            if chosen is not pending:  # the conversation's pending offer is stored already
                await store_offer(file, chosen)
            file.conversation.negotiation = state.model_dump(mode="json")
            agreement = await record_agreement(
                file, chosen, created_by=PORTAL, actor=PORTAL,
                acceptance=acceptance.as_data() if acceptance else None)
            await uow.commit()
            return Accepted(agreement.id, created=True)

    async def terms(self, link: PortalLink) -> TermsDocument:
        """The terms of the debtor's newest agreement (in force or kept); refused with
        ``no_agreement`` when there is none."""
        async with self._uow() as uow:
            file = await self._open(uow, link)
            agreement = await latest_agreement(file)
            if agreement is None:
                raise PortalRefused("no_agreement")
            document = await terms_of(file, agreement)
            await uow.commit()  # the conversation opened on first use
            return document

    async def _agreement_view(self, file: DebtorFile, agreement: db.Agreement) -> AgreementView:
        first = next_open(agreement.installments)
        charges = []
        if self._payments is not None and first is not None:
            charges = await self._payments.instructions(file.uow.session, file.policy,
                                                        file.debtor, [first])
        schedule = [ScheduleLine(i.number, i.due_date, i.amount, i.paid_amount)
                    for i in sorted(agreement.installments, key=lambda i: i.number)]
        return AgreementView(agreement.id, agreement.kind, agreement.total,
                             agreement.discount_percent, agreement.created_by,
                             agreement.created_at, schedule, charges[0] if charges else None,
                             picture_path(instruction_picture(charges)))


async def linked_contact(uow: UnitOfWork, link: PortalLink) -> db.Contact:
    """The web contact ``link`` names, while it still belongs to the link's debtor."""
    contact = await uow.portfolio.find_contact("web", link.address)
    if contact is None or (contact.debtor.creditor_id, contact.debtor.external_id) != (
            link.creditor, link.debtor):
        raise PortalRefused("unbound")
    return contact


async def active_agreement(uow: UnitOfWork, debtor_id: int) -> db.Agreement | None:
    """The debtor's newest active agreement (installments and debts loaded), if any."""
    active = [a for a in await uow.agreements.agreements_for(debtor_id)
              if a.status == AgreementStatus.ACTIVE.value]
    return active[-1] if active else None
