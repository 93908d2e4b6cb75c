"""Repositories, one per aggregate, over an :class:`~sqlalchemy.ext.asyncio.AsyncSession`.

Repositories add, change and flush; the caller owns the transaction and commits (or
rolls back). Relationships are not lazy-loaded under asyncio: each method says what it
loads eagerly; for anything else use ``await obj.awaitable_attrs.name``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from bot.storage.models import (
    ZERO,
    Agreement,
    AgreementStatus,
    AuditEvent,
    Contact,
    Conversation,
    ConversationState,
    CreatedBy,
    Creditor,
    Debt,
    Debtor,
    DebtStatus,
    Direction,
    Installment,
    Message,
    Offer,
    OfferStatus,
    Payment,
)
from bot.storage.types import MAX_MONEY, MAX_PAYMENT, json_safe, to_money


class StorageError(Exception):
    """Base of the errors the repositories raise on purpose."""


class ContactConflict(StorageError):
    """The (channel, address) already belongs to another debtor."""

    def __init__(self, channel: str, address: str, debtor_id: int) -> None:
        super().__init__(f"{channel}:{address} already belongs to debtor #{debtor_id}")
        self.channel = channel
        self.address = address
        self.debtor_id = debtor_id


class DebtConflict(StorageError):
    """The creditor's debt (by external id) already belongs to another debtor."""

    def __init__(self, external_id: str, debtor_id: int) -> None:
        super().__init__(f"debt {external_id!r} already belongs to debtor #{debtor_id}")
        self.external_id = external_id
        self.debtor_id = debtor_id


class PaymentTooLarge(StorageError, ValueError):
    """A payment above :data:`MAX_PAYMENT`, or one the debt's paid total cannot hold."""


class AmbiguousReference(StorageError):
    """An external id found under more than one creditor: pass ``creditor_id``."""

    def __init__(self, what: str, external_id: str, creditor_ids: Sequence[str]) -> None:
        creditors = ", ".join(sorted(creditor_ids))
        super().__init__(f"{what} {external_id!r} exists for creditors {creditors}")
        self.external_id = external_id
        self.creditor_ids = tuple(creditor_ids)


class AmbiguousDebtor(AmbiguousReference):
    """A debtor external id used by more than one creditor."""


class AmbiguousDebt(AmbiguousReference):
    """A debt external id used by more than one creditor."""


class DuplicateMessage(StorageError):
    """A message with this idempotency key was already stored (a provider retry)."""

    def __init__(self, existing: Message) -> None:
        super().__init__(f"message {existing.idempotency_key!r} already stored (#{existing.id})")
        self.existing = existing


class PortfolioRepository:
    """Creditors, debtors, their contacts and debts (what a portfolio import brings)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert_creditor(self, id: str, name: str, tax_id: str) -> Creditor:
        creditor = await self.session.get(Creditor, id)
        if creditor is None:
            creditor = Creditor(id=id, name=name, tax_id=tax_id)
            self.session.add(creditor)
        else:
            creditor.name, creditor.tax_id = name, tax_id
        await self.session.flush()
        return creditor

    async def upsert_debtor(
        self,
        creditor_id: str,
        external_id: str,
        name: str,
        tax_id: str | None,
        timezone: str,
        locale: str,
    ) -> Debtor:
        """Insert or update the debtor ``external_id`` of ``creditor_id``."""
        debtor = await self.session.scalar(
            select(Debtor).where(Debtor.creditor_id == creditor_id, Debtor.external_id == external_id)
        )
        if debtor is None:
            debtor = Debtor(creditor_id=creditor_id, external_id=external_id)
            self.session.add(debtor)
        debtor.name, debtor.tax_id = name, tax_id
        debtor.timezone, debtor.locale = timezone, locale
        await self.session.flush()
        return debtor

    async def upsert_contact(
        self,
        debtor: Debtor,
        name: str,
        channel: str,
        address: str,
        locale: str | None = None,
        timezone: str | None = None,
    ) -> Contact:
        """Insert or update a contact; its ``status`` (an opt-out, say) is kept.

        Raises :class:`ContactConflict` when (channel, address) belongs to another debtor.
        """
        contact = await self.session.scalar(
            select(Contact).where(Contact.channel == channel, Contact.address == address)
        )
        if contact is None:
            contact = Contact(debtor_id=debtor.id, channel=channel, address=address)
            self.session.add(contact)
        elif contact.debtor_id != debtor.id:
            raise ContactConflict(channel, address, contact.debtor_id)
        contact.name, contact.locale, contact.timezone = name, locale, timezone
        await self.session.flush()
        return contact

    async def upsert_debt(
        self,
        debtor: Debtor,
        external_id: str,
        amount: Decimal | str,
        currency: str,
        due_date: date,
        description: str = "",
    ) -> Debt:
        """Insert or update a debt by external id; ``paid_amount`` and ``status`` are kept.

        Raises :class:`DebtConflict` when the creditor's debt belongs to another debtor (a
        debt never changes debtor).
        """
        debt = await self.session.scalar(
            select(Debt).where(Debt.creditor_id == debtor.creditor_id, Debt.external_id == external_id)
        )
        if debt is None:
            debt = Debt(creditor_id=debtor.creditor_id, external_id=external_id, debtor_id=debtor.id)
            self.session.add(debt)
        elif debt.debtor_id != debtor.id:
            raise DebtConflict(external_id, debt.debtor_id)
        debt.amount, debt.currency = to_money(amount), currency
        debt.due_date, debt.description = due_date, description
        await self.session.flush()
        return debt

    async def find_contact(self, channel: str, address: str) -> Contact | None:
        """The contact at (channel, address), its ``debtor`` loaded."""
        return await self.session.scalar(
            select(Contact)
            .options(joinedload(Contact.debtor))
            .where(Contact.channel == channel, Contact.address == address)
        )

    async def contacts_for(self, debtor_id: int) -> list[Contact]:
        result = await self.session.scalars(
            select(Contact).where(Contact.debtor_id == debtor_id).order_by(Contact.id)
        )
        return list(result)

    async def get_debtor(self, external_id: str, creditor_id: str | None = None) -> Debtor | None:
        """The debtor with ``external_id``, its ``creditor``, ``contacts`` and ``debts`` loaded.

        Without ``creditor_id``, an id used by several creditors raises
        :class:`AmbiguousDebtor`.
        """
        query = (
            select(Debtor)
            .options(
                joinedload(Debtor.creditor),
                selectinload(Debtor.contacts),
                selectinload(Debtor.debts),
            )
            .where(Debtor.external_id == external_id)
        )
        if creditor_id is not None:
            query = query.where(Debtor.creditor_id == creditor_id)
        debtors = list((await self.session.scalars(query)).unique())
        if len(debtors) > 1:
            raise AmbiguousDebtor("debtor", external_id, [d.creditor_id for d in debtors])
        return debtors[0] if debtors else None

    async def debtor_by_id(self, debtor_id: int) -> Debtor | None:
        """The debtor with primary key ``debtor_id``, loaded like :meth:`get_debtor`."""
        return await self.session.scalar(
            select(Debtor)
            .options(
                joinedload(Debtor.creditor),
                selectinload(Debtor.contacts),
                selectinload(Debtor.debts),
            )
            .where(Debtor.id == debtor_id)
        )

    async def debts_for(self, debtor_id: int, statuses: Iterable[str] | None = None) -> list[Debt]:
        """The debtor's debts (all, or those in ``statuses``), oldest due date first."""
        query = select(Debt).where(Debt.debtor_id == debtor_id)
        if statuses is not None:
            query = query.where(Debt.status.in_([str(status) for status in statuses]))
        result = await self.session.scalars(query.order_by(Debt.due_date, Debt.id))
        return list(result)

    async def open_debts(self, debtor_id: int) -> list[Debt]:
        """Debts still open to negotiation: status ``open`` only.

        Debts ``in_agreement`` are already settled by an agreement, ``disputed`` ones
        wait for a human, ``paid`` ones are done; use :meth:`debts_for` for those.
        """
        return await self.debts_for(debtor_id, [DebtStatus.OPEN])

    async def get_debt(self, external_id: str, creditor_id: str | None = None) -> Debt | None:
        """The debt with ``external_id``, its ``debtor`` loaded.

        Without ``creditor_id``, an id used by several creditors raises :class:`AmbiguousDebt`.
        """
        query = select(Debt).options(joinedload(Debt.debtor)).where(Debt.external_id == external_id)
        if creditor_id is not None:
            query = query.where(Debt.creditor_id == creditor_id)
        debts = list(await self.session.scalars(query))
        if len(debts) > 1:
            raise AmbiguousDebt("debt", external_id, [d.creditor_id for d in debts])
        return debts[0] if debts else None


class ConversationRepository:
    """Conversations with contacts and their messages."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_or_create(self, contact: Contact) -> Conversation:
        """The contact's conversation, created (state ``bot``) on first use.

        Race-free: when first messages arrive together, the unique key on ``contact_id``
        lets one insert win; the others (their insert in a savepoint) read the winner's.
        """
        conversation = await self.for_contact(contact.id)
        if conversation is not None:
            return conversation
        try:
            async with self.session.begin_nested():
                conversation = Conversation(contact=contact, channel=contact.channel,
                                            address=contact.address)
                self.session.add(conversation)
        except IntegrityError:
            conversation = await self.session.scalar(
                select(Conversation).where(Conversation.contact_id == contact.id)
                .execution_options(populate_existing=True))
            if conversation is None:
                raise
        return conversation

    async def for_contact(self, contact_id: int) -> Conversation | None:
        """The contact's conversation, if it has one (nothing is created)."""
        return await self.session.scalar(select(Conversation).where(Conversation.contact_id == contact_id))

    async def by_public_id(self, public_id: str) -> Conversation | None:
        """The conversation with ``public_id``, its ``contact`` and ``contact.debtor`` loaded."""
        return await self.session.scalar(
            select(Conversation)
            .options(joinedload(Conversation.contact).joinedload(Contact.debtor))
            .where(Conversation.public_id == public_id)
        )

    async def for_debtor(self, debtor_id: int) -> list[Conversation]:
        """The debtor's conversations (all contacts), ``contact`` and ``messages`` loaded."""
        result = await self.session.scalars(
            select(Conversation)
            .join(Conversation.contact)
            .options(joinedload(Conversation.contact), selectinload(Conversation.messages))
            .where(Contact.debtor_id == debtor_id)
            .order_by(Conversation.id)
        )
        return list(result.unique())

    async def add_message(
        self,
        conversation: Conversation,
        *,
        direction: str,
        author: str,
        text: str,
        channel: str,
        status: str,
        template: str | None = None,
        template_vars: Mapping[str, Any] | None = None,
        buttons: Sequence[Mapping[str, Any]] | None = None,
        idempotency_key: str | None = None,
        provider_id: str | None = None,
        at: datetime | None = None,
    ) -> Message:
        """Store a message; an inbound one also sets ``conversation.last_inbound_at``.

        A known ``idempotency_key`` raises :class:`DuplicateMessage` (carrying the stored
        message) and changes nothing. Two racing inserts of one key still meet the
        unique constraint at flush, as :class:`sqlalchemy.exc.IntegrityError`.
        ``at`` defaults to now.
        """
        if idempotency_key is not None:
            existing = await self.by_idempotency_key(idempotency_key)
            if existing is not None:
                raise DuplicateMessage(existing)
        message = Message(
            conversation_id=conversation.id,
            direction=str(direction),
            author=str(author),
            text=text,
            channel=str(channel),
            status=str(status),
            template=template,
            template_vars=json_safe(template_vars) if template_vars is not None else None,
            buttons=json_safe(buttons) if buttons is not None else None,
            idempotency_key=idempotency_key,
            provider_id=provider_id,
        )
        if at is not None:
            message.created_at = message.updated_at = at
        self.session.add(message)
        await self.session.flush()
        if direction == Direction.IN:
            conversation.last_inbound_at = message.created_at
            await self.session.flush()
        return message

    async def by_idempotency_key(self, key: str) -> Message | None:
        return await self.session.scalar(select(Message).where(Message.idempotency_key == key))

    async def by_provider_id(self, provider_id: str) -> Message | None:
        """The message a provider knows as ``provider_id`` (for delivery status callbacks)."""
        return await self.session.scalar(
            select(Message).where(Message.provider_id == provider_id).order_by(Message.id)
        )

    async def set_message_status(self, message: Message, status: str, provider_id: str | None = None) -> None:
        message.status = str(status)
        if provider_id is not None:
            message.provider_id = provider_id
        await self.session.flush()

    async def messages(self, conversation_id: int, limit: int | None = None) -> list[Message]:
        """The conversation's messages, oldest first; with ``limit``, only the latest ones."""
        query = select(Message).where(Message.conversation_id == conversation_id)
        if limit is None:
            return list(await self.session.scalars(query.order_by(Message.id)))
        latest = list(await self.session.scalars(query.order_by(Message.id.desc()).limit(limit)))
        return latest[::-1]

    async def set_state(self, conversation: Conversation, state: str, reason: str | None = None) -> None:
        """Move the conversation to ``state``; ``reason`` is kept as ``handoff_reason``."""
        conversation.state = str(state)
        conversation.handoff_reason = reason
        if state == ConversationState.BOT:
            conversation.fallback_count = 0
        await self.session.flush()

    async def save_negotiation(self, conversation: Conversation, data: Mapping[str, Any] | None) -> None:
        """Replace the serialized negotiation state (Decimals and dates become strings)."""
        conversation.negotiation = json_safe(data) if data is not None else None
        await self.session.flush()


class OfferTerms(Protocol):
    """What :meth:`AgreementRepository.add_offer` reads from a domain offer."""

    @property
    def kind(self) -> str: ...
    @property
    def balance(self) -> Decimal: ...
    @property
    def total(self) -> Decimal: ...
    @property
    def discount_percent(self) -> Decimal: ...
    @property
    def monthly_interest_percent(self) -> Decimal: ...
    @property
    def installments(self) -> Sequence[Any]: ...
    @property
    def created_by(self) -> str: ...


def installment_json(item: Mapping[str, Any] | Any) -> dict[str, Any]:
    """``{"number", "due_date", "amount"}`` as JSON-safe values from a mapping or object."""
    if isinstance(item, Mapping):
        number, due, amount = item["number"], item["due_date"], item["amount"]
    else:
        number, due, amount = item.number, item.due_date, item.amount
    due_date = due if isinstance(due, date) else date.fromisoformat(str(due))
    return {
        "number": int(number),
        "due_date": due_date.isoformat(),
        "amount": str(to_money(amount)),
    }


class AgreementRepository:
    """Offers put to debtors and the agreements (with installments) they accept."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_offer(
        self,
        *,
        conversation_id: int,
        debtor_id: int,
        offer: OfferTerms | None = None,
        kind: str | None = None,
        balance: Decimal | str | None = None,
        total: Decimal | str | None = None,
        installments: Sequence[Mapping[str, Any] | Any] | None = None,
        discount_percent: Decimal | str | None = None,
        monthly_interest_percent: Decimal | str | None = None,
        created_by: str | None = None,
        status: str = OfferStatus.PROPOSED,
    ) -> Offer:
        """Store an offer, from ``offer`` (a :class:`bot.negotiation.offers.Offer` or any
        object with its fields) and/or the keyword fields, which win over ``offer``'s.

        ``installments`` are mappings or objects with ``number``, ``due_date`` and
        ``amount``; a full payment is one installment. Percentages default to 0 and
        ``created_by`` to ``bot``.
        """

        def pick(name: str, given: Any, default: Any = None) -> Any:
            if given is not None:
                return given
            value = getattr(offer, name, None) if offer is not None else None
            if value is None and default is None:
                raise TypeError(f"add_offer() needs {name!r} (or an offer that has it)")
            return default if value is None else value

        plan = pick("installments", installments)
        if not plan:
            raise ValueError("an offer needs at least one installment (its payment date)")
        row = Offer(
            conversation_id=conversation_id,
            debtor_id=debtor_id,
            kind=str(pick("kind", kind)),
            balance=to_money(pick("balance", balance)),
            total=to_money(pick("total", total)),
            discount_percent=to_money(pick("discount_percent", discount_percent, ZERO)),
            monthly_interest_percent=to_money(
                pick("monthly_interest_percent", monthly_interest_percent, ZERO)
            ),
            installments=[installment_json(item) for item in plan],
            created_by=str(pick("created_by", created_by, CreatedBy.BOT)),
            status=str(status),
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def latest_offer(self, conversation_id: int, status: str | None = None) -> Offer | None:
        """The conversation's newest offer (optionally only one with ``status``)."""
        query = select(Offer).where(Offer.conversation_id == conversation_id)
        if status is not None:
            query = query.where(Offer.status == str(status))
        return await self.session.scalar(query.order_by(Offer.id.desc()).limit(1))

    async def mark_offers(self, conversation_id: int, from_status: str, to_status: str) -> int:
        """Move the conversation's offers in ``from_status`` to ``to_status``; how many."""
        result = await self.session.execute(
            update(Offer)
            .where(Offer.conversation_id == conversation_id, Offer.status == str(from_status))
            .values(status=str(to_status))
            .execution_options(synchronize_session="fetch")
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def create_agreement(
        self,
        debtor_id: int,
        offer_row: Offer,
        debts: Sequence[Debt],
        created_by: str,
    ) -> Agreement:
        """An active agreement on ``offer_row``'s terms over ``debts``.

        Creates one installment row per installment of the offer, sets the debts'
        status to ``in_agreement`` and the offer's to ``accepted``.
        """
        if not offer_row.installments:
            raise ValueError(f"offer #{offer_row.id} has no installments")
        agreement = Agreement(
            debtor_id=debtor_id,
            offer_id=offer_row.id,
            kind=offer_row.kind,
            total=offer_row.total,
            discount_percent=offer_row.discount_percent,
            status=AgreementStatus.ACTIVE.value,
            created_by=str(created_by),
            installments=[
                Installment(
                    number=int(item["number"]),
                    due_date=date.fromisoformat(item["due_date"]),
                    amount=to_money(item["amount"]),
                )
                for item in offer_row.installments
            ],
            debts=list(debts),
        )
        for debt in debts:
            debt.status = DebtStatus.IN_AGREEMENT.value
        offer_row.status = OfferStatus.ACCEPTED.value
        self.session.add(agreement)
        await self.session.flush()
        return agreement

    async def agreements_for(self, debtor_id: int) -> list[Agreement]:
        """The debtor's agreements, oldest first, ``installments`` and ``debts`` loaded."""
        result = await self.session.scalars(
            select(Agreement)
            .options(selectinload(Agreement.installments), selectinload(Agreement.debts))
            .where(Agreement.debtor_id == debtor_id)
            .order_by(Agreement.id)
        )
        return list(result)

    async def set_agreement_status(self, agreement: Agreement, status: str) -> None:
        agreement.status = str(status)
        await self.session.flush()


class PaymentRepository:
    """Payments received against debts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        debt: Debt,
        amount: Decimal | str,
        paid_at: datetime,
        reference: str | None = None,
    ) -> Payment:
        """Record a payment (see :meth:`record_once`) and return it, or the first one with
        the same ``reference`` (re-imported bank files)."""
        payment, _repeat = await self.record_once(debt, amount, paid_at, reference)
        return payment

    async def record_once(
        self,
        debt: Debt,
        amount: Decimal | str,
        paid_at: datetime,
        reference: str | None = None,
    ) -> tuple[Payment, bool]:
        """Record a payment and add it to the debt's ``paid_amount``; ``(payment, False)``.

        The debt changes by one atomic statement (``paid_amount = paid_amount + x``, its
        status ``paid`` once that reaches the amount), so payments arriving together all
        count. A ``reference`` is unique per creditor: when the creditor already has it
        (recorded before, or by a request racing this one: the unique index decides) the
        first payment is returned as ``(first, True)`` and nothing changes. Amounts must be
        positive and at most :data:`MAX_PAYMENT`; a payment that would take the debt's paid
        total past what the column holds raises :class:`PaymentTooLarge`.
        """
        money = to_money(amount)
        if money <= 0:
            raise ValueError(f"a payment must be positive, got {money}")
        if money > MAX_PAYMENT:
            raise PaymentTooLarge(f"a payment is at most {MAX_PAYMENT}, got {money}")
        if reference is not None:
            first = await self.by_reference(debt.creditor_id, reference)
            if first is not None:
                return first, True
        payment = Payment(debt_id=debt.id, creditor_id=debt.creditor_id, amount=money,
                          paid_at=paid_at, reference=reference)
        try:
            async with self.session.begin_nested():
                self.session.add(payment)
        except IntegrityError:
            first = None if reference is None else await self.by_reference(debt.creditor_id, reference)
            if first is None:
                raise
            return first, True
        total = Debt.paid_amount + money
        row = (await self.session.execute(
            update(Debt)
            .where(Debt.id == debt.id, total <= MAX_MONEY)
            .values(paid_amount=func.round(total, 2),
                    status=case((total >= Debt.amount, DebtStatus.PAID.value), else_=Debt.status))
            .returning(Debt.paid_amount, Debt.status)
            .execution_options(synchronize_session=False)
        )).one_or_none()
        if row is None:
            raise PaymentTooLarge(f"the debt's paid total would pass {MAX_MONEY}")
        set_committed_value(debt, "paid_amount", row[0])
        set_committed_value(debt, "status", row[1])
        return payment, False

    async def by_reference(self, creditor_id: str, reference: str) -> Payment | None:
        """The creditor's payment with ``reference`` (the first, by the unique index)."""
        return await self.session.scalar(
            select(Payment).where(Payment.creditor_id == creditor_id, Payment.reference == reference)
            .execution_options(populate_existing=True))

    async def for_debt(self, debt_id: int) -> list[Payment]:
        result = await self.session.scalars(
            select(Payment).where(Payment.debt_id == debt_id).order_by(Payment.paid_at, Payment.id)
        )
        return list(result)

    async def total_paid(self, debt_id: int) -> Decimal:
        """Sum of the debt's payments, computed by the database."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(Payment.debt_id == debt_id)
        )
        return to_money(total if isinstance(total, Decimal) else Decimal(repr(total)))


class AuditLog:
    """Append-only record of who did what (bot, system, ``agent:<name>``, admin)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        kind: str,
        actor: str,
        *,
        debtor_id: int | None = None,
        conversation_id: int | None = None,
        data: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEvent:
        event = AuditEvent(
            kind=kind,
            actor=actor,
            debtor_id=debtor_id,
            conversation_id=conversation_id,
            data=json_safe(data) if data is not None else {},
        )
        if at is not None:
            event.at = at
        self.session.add(event)
        await self.session.flush()
        return event

    async def for_debtor(self, debtor_id: int) -> list[AuditEvent]:
        """The debtor's events, oldest first."""
        result = await self.session.scalars(
            select(AuditEvent).where(AuditEvent.debtor_id == debtor_id).order_by(AuditEvent.id)
        )
        return list(result)
