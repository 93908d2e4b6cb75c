"""PIX received over the API Pix, settled through the one settlement path.

Each received PIX becomes ``POST /api/v1/payments`` semantics
(:meth:`~bot.services.portfolio.PortfolioService.record_payment`) with ``txid`` = the
charge's and ``reference`` = its ``endToEndId``: the reference is unique per creditor, so a
PIX reported twice (a duplicated webhook, a webhook and the sweep) is recorded once. The
sweep reads ``GET /pix`` over a period and catches the webhooks that never came.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import ValidationError

from bot import schemas
from bot.clock import Clock
from bot.payments.pix_api import PixApiProvider
from bot.payments.provider import PaymentNotice, PaymentProviderError
from bot.services.portfolio import PortfolioService, UnknownDebt

logger = logging.getLogger(__name__)


@dataclass
class IntakeTally:
    settled: int = 0  # recorded now
    duplicates: int = 0  # recorded before (same endToEndId)
    unknown: int = 0  # a txid that is not one of our charges
    rejected: list[str] = field(default_factory=list)  # endToEndIds with out-of-bounds values

    def add(self, other: IntakeTally) -> None:
        self.settled += other.settled
        self.duplicates += other.duplicates
        self.unknown += other.unknown
        self.rejected += other.rejected


def payment_for(notice: PaymentNotice) -> schemas.PaymentIn:
    """The ``POST /api/v1/payments`` body of a received PIX (raises ``ValidationError``)."""
    return schemas.PaymentIn.model_validate({
        "txid": notice.txid, "amount": f"{notice.amount:.2f}", "paid_at": notice.paid_at,
        "reference": notice.provider_ref or notice.txid})


async def record_payments(portfolio: PortfolioService, payments: Iterable[schemas.PaymentIn]
                          ) -> tuple[IntakeTally, list[schemas.PaymentOut]]:
    tally, results = IntakeTally(), []
    for payment in payments:
        try:
            result = await portfolio.record_payment(payment)
        except UnknownDebt:
            tally.unknown += 1  # not one of ours: acknowledged, nothing settled
            continue
        results.append(result)
        if result.duplicate:
            tally.duplicates += 1
        else:
            tally.settled += 1
    return tally, results


async def sweep(portfolio: PortfolioService, provider: PixApiProvider, start: datetime,
                end: datetime) -> IntakeTally:
    """Settle every PIX the PSP received between ``start`` and ``end`` not recorded yet."""
    tally, valid = IntakeTally(), []
    for notice in await provider.received(start, end):
        try:
            valid.append(payment_for(notice))
        except ValidationError:
            tally.rejected.append(notice.provider_ref or notice.txid)
    recorded, _ = await record_payments(portfolio, valid)
    tally.add(recorded)
    if tally.settled:
        logger.info("PIX sweep %s..%s: %d settled that no webhook had reported", start, end,
                    tally.settled)
    return tally


async def sweep_every(portfolio: PortfolioService, provider: PixApiProvider, clock: Clock,
                      every: timedelta, look_back: timedelta, stop: asyncio.Event) -> None:
    """The worker's loop: a sweep of the last ``look_back`` every ``every`` until ``stop``."""
    while not stop.is_set():
        now = clock.now()
        try:
            await sweep(portfolio, provider, now - look_back, now)
        except PaymentProviderError as exc:
            logger.warning("PIX sweep failed (next one in %s): %s", every, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every.total_seconds())
