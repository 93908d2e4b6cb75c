"""Portal links as stored: the SHA-256 of each token, never the token, and its uses.

Kept apart from :mod:`bot.storage.models` (same ``Base`` and naming convention) so the
feature ships its own migration (``portal_links_1``). A link is found by its token's hash;
``revoked_at`` ends it before it expires; ``use_count`` and ``last_used_at`` move on every
use (one ``UPDATE ... SET use_count = use_count + 1``, so concurrent uses all count).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Base
from bot.storage.types import UTCDateTime, clock_now


class StoredPortalLink(Base):
    """One issued portal link (``/p/{token}``): who it speaks as, who issued it, its uses."""

    __tablename__ = "portal_links"
    __table_args__ = (Index(None, "debtor_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))  # the web contact
    # cli, api, reminder, bot or agent:<name>
    issued_by: Mapped[str] = mapped_column(String(128))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str | None] = mapped_column(String(128))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    use_count: Mapped[int] = mapped_column(Integer, default=0)
