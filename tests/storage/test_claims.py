"""Payment claims and their receipts keep money exact, dates and bytes, on both backends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.claim_models import ClaimStatus
from bot.storage.repositories.claims import MAX_CLAIM_TEXT, ClaimRepository

from . import factories

Reload = Callable[[], Awaitable[None]]
AT = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)


async def test_a_claim_gathers_details_and_receipts(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    _, conversation = await factories.conversation(session, owner)
    claims = ClaimRepository(session)
    claim = await claims.open(debtor_id=owner.id, conversation_id=conversation.id, text="já pagamos",
                              at=AT)
    await claims.add_details(claim, text="TED 88213, valor 3.100,00", at=AT + timedelta(minutes=2),
                             amount=Decimal("3100"), reference="TED 88213")
    await claims.add_details(claim, text="foi pelo itaú dia 2", at=AT + timedelta(minutes=3),
                             paid_on=date(2026, 11, 2), bank="Itaú")
    await claims.attach(claim, content_type="application/pdf", size=4, content=b"%PDF",
                        at=AT + timedelta(minutes=4))
    claim_id = claim.id
    await reload()

    stored = await ClaimRepository(session).pending_for(owner.id)
    assert stored is not None and stored.id == claim_id
    assert (stored.amount, stored.reference, stored.paid_on, stored.bank) == (
        Decimal("3100.00"), "TED 88213", date(2026, 11, 2), "Itaú")
    assert stored.text.splitlines() == ["já pagamos", "TED 88213, valor 3.100,00", "foi pelo itaú dia 2"]
    assert (stored.created_at, stored.updated_at) == (AT, AT + timedelta(minutes=4))
    [receipt] = stored.attachments
    assert (receipt.content_type, receipt.size, receipt.content) == ("application/pdf", 4, b"%PDF")


async def test_resolving_a_claim_leaves_nothing_pending(session: AsyncSession, reload: Reload) -> None:
    owner = await factories.debtor(session)
    claims = ClaimRepository(session)
    claim = await claims.open(debtor_id=owner.id, conversation_id=None, text="x" * (MAX_CLAIM_TEXT + 9),
                              at=AT)
    assert len(claim.text) == MAX_CLAIM_TEXT
    await claims.resolve(claim, ClaimStatus.CONFIRMED, actor="agent:alice", at=AT,
                         payment_amount=Decimal("10.5"))
    await reload()

    claims = ClaimRepository(session)
    assert await claims.pending_for(owner.id) is None and await claims.pending() == []
    [stored] = await claims.for_debtor(owner.id)
    assert (stored.status, stored.resolved_by, stored.resolved_at, stored.payment_amount) == (
        "confirmed", "agent:alice", AT, Decimal("10.50"))
