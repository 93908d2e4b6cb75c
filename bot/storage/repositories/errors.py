"""The errors the repositories raise on purpose (conflicts, ambiguous references, duplicates)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.storage.models import (
    Message,
)


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


class VersionTaken(StorageError):
    """Another transaction stored this version number of the template first (try again)."""


class DuplicateMessage(StorageError):
    """A message with this idempotency key was already stored (a provider retry)."""

    def __init__(self, existing: Message) -> None:
        super().__init__(f"message {existing.idempotency_key!r} already stored (#{existing.id})")
        self.existing = existing
