"""Tables of the staff side: accounts, sessions, login attempts, agent work, template versions.

Kept apart from :mod:`bot.storage.models` (same ``Base``, same naming convention) so the
staff feature ships its own migration (``0003_staff``). Enumerated columns are strings
guarded by CHECK constraints, like the rest of the schema.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models import Base, one_of
from bot.storage.types import UTCDateTime, clock_now


class StaffRole(StrEnum):
    AGENT = "agent"
    ADMIN = "admin"


class StaffUser(Base):
    """A person who works in the browser: an ``agent`` takes chats, an ``admin`` also edits
    templates. ``password_hash`` is an argon2id hash (never the password)."""

    __tablename__ = "staff_users"
    __table_args__ = (one_of("role", StaffRole),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class StaffSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored.
    ``csrf_token`` must come back with every form posted in this session."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[StaffUser] = relationship()


class LoginAttempt(Base):
    """One login attempt, kept for rate limiting (per name and per client address)."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index(None, "name", "at"), Index(None, "client", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)


class ConversationAssignment(Base):
    """Which agent has taken a handed-off conversation. The primary key on
    ``conversation_id`` is the database-level guard: a second take fails on insert."""

    __tablename__ = "conversation_assignments"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)

    user: Mapped[StaffUser] = relationship()


class ConversationNote(Base):
    """An internal note on a conversation; never sent to the debtor."""

    __tablename__ = "conversation_notes"
    __table_args__ = (Index(None, "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)

    user: Mapped[StaffUser] = relationship()


class TemplateVersion(Base):
    """One saved version of a message template. The newest version of a
    (name, locale, channel) is the one the bot uses; ``channel`` ``""`` means every channel.
    A rollback saves the old source again as a new version (``restored_from``)."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("name", "locale", "channel", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="", server_default="")
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    content_sid: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(64))
    restored_from: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=clock_now)
