"""Persistence: SQLAlchemy models, async engine and sessions, migrations, repositories.

Importing this package creates no engine and opens no connection; the composition
root calls :func:`create_engine`, :func:`session_factory` and :func:`migrate`.
See ``docs/storage.md``.
"""

from bot.storage import (
    cadence_models,  # noqa: F401  (registers the cadence tables on Base.metadata)
    channel_models,  # noqa: F401  (registers the channel tables on Base.metadata)
    claim_models,  # noqa: F401  (registers the payment-claim tables on Base.metadata)
    payment_models,  # noqa: F401  (registers the payments tables on Base.metadata)
    staff_models,  # noqa: F401  (registers the staff tables on Base.metadata)
)
from bot.storage.db import (
    alembic_config,
    async_url,
    create_engine,
    current_revision,
    downgrade,
    head_revision,
    migrate,
    session_factory,
)
from bot.storage.payment_repositories import PaymentRepository
from bot.storage.repositories.agreements import AgreementRepository
from bot.storage.repositories.audit import AuditLog
from bot.storage.repositories.conversations import ConversationRepository
from bot.storage.repositories.errors import (
    AmbiguousDebt,
    AmbiguousDebtor,
    AmbiguousReference,
    ContactConflict,
    DuplicateMessage,
    StorageError,
)
from bot.storage.repositories.portfolio import PortfolioRepository

__all__ = [
    "AgreementRepository",
    "AmbiguousDebt",
    "AmbiguousDebtor",
    "AmbiguousReference",
    "AuditLog",
    "ContactConflict",
    "ConversationRepository",
    "DuplicateMessage",
    "PaymentRepository",
    "PortfolioRepository",
    "StorageError",
    "alembic_config",
    "async_url",
    "create_engine",
    "current_revision",
    "downgrade",
    "head_revision",
    "migrate",
    "session_factory",
]
