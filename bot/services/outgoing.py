"""The one way a message leaves for a contact: choose, render, store, enqueue.

Every sender (bot replies, the régua, the follow-up, the agent desk, deep links) goes
through :class:`OutgoingMessages`:

- the locale is the contact's, else the debtor's, else the renderer's default;
- the template is chosen by (name, locale, channel): a channel-specific version saved in the
  template admin wins on its channel, then the version for every channel, then the default
  locale's (see :meth:`TemplateRenderer.render`);
- the message is stored in the conversation and, on every channel but the web chat (which
  shows stored messages itself), its outbox row is enqueued in the same transaction — the
  caller commits. The outbox splits long texts and paces sends as before.

Idempotency keys are the callers' own, unchanged: ``key`` may hold ``{index}`` (the
reply's position) and ``{message}`` (the stored message's id); a known outbox key returns
the queued row, so a retry after a crash never sends twice.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.channels.base import MediaRef
from bot.conversation.outcome import Reply
from bot.conversation.plain_values import encode
from bot.rendering.renderer import SUPPORTED_LOCALES, TemplateRenderer
from bot.storage import models as db
from bot.storage.channel_models import Initiator, OutboxMessage
from bot.storage.repositories.errors import DuplicateMessage
from bot.storage.uow import UnitOfWork

WEB = db.Channel.WEB.value


def locale_of(contact: db.Contact | None, debtor: db.Debtor | None,
              default: str = SUPPORTED_LOCALES[0]) -> str:
    """The locale to speak to a contact in: its own, else its debtor's, else ``default``."""
    if contact is not None and contact.locale:
        return contact.locale
    if debtor is not None and debtor.locale:
        return debtor.locale
    return default


@dataclass(frozen=True)
class Rendered:
    """A reply rendered for one contact: text, buttons with titles, the picture if any."""

    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)
    media: MediaRef | None = None
    template: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Queued:
    message: db.Message
    rendered: Rendered
    outbox: OutboxMessage | None  # None on the web chat


class OutgoingMessages:
    def __init__(self, renderer: TemplateRenderer, picture_channels: Collection[str] = ()) -> None:
        self._renderer = renderer
        self._picture_channels = frozenset(picture_channels)  # channels that can show a picture

    def locale_of(self, contact: db.Contact | None, debtor: db.Debtor | None = None) -> str:
        """The contact's locale, else the debtor's, else the renderer's default."""
        return locale_of(contact, debtor, self._renderer.default_locale)

    def render(self, reply: Reply, locale: str, channel: str) -> Rendered:
        text = self._renderer.render(reply.template, locale, dict(reply.variables), channel=channel)
        buttons = [{"title": self._renderer.render(b.title_template, locale, {}, channel=channel),
                    "payload": b.payload} for b in reply.buttons]
        return Rendered(text, buttons, reply.media, reply.template, reply.variables)

    def mentions(self, reply: Reply, locale: str, channel: str, variable: str) -> bool:
        """Whether ``reply``'s template (as chosen for ``locale`` and ``channel``) shows
        ``variable``: the text differs when the variable is set (e.g. a link worth issuing)."""
        without = {**reply.variables, variable: ""}
        probe = {**reply.variables, variable: "https://probe.invalid/p/x"}
        return (self._renderer.render(reply.template, locale, without, channel=channel)
                != self._renderer.render(reply.template, locale, probe, channel=channel))

    async def queue(self, uow: UnitOfWork, contact: db.Contact,
                    replies: Sequence[Reply | Rendered], key: str, initiated_by: str = Initiator.REPLY,
                    not_before: datetime | None = None, *, not_after: datetime | None = None,
                    debtor: db.Debtor | None = None, conversation: db.Conversation | None = None,
                    author: str = "bot", status: str = "queued", message_key: bool = False,
                    outbox_locale: str | None = "") -> list[Queued]:
        """Render, store and enqueue ``replies`` to ``contact`` in ``uow`` (the caller commits).

        ``Rendered`` items are sent as they are (an agent's own text). ``message_key``: the
        stored message carries the outbox key too (a repeat finds the stored one). The outbox
        row carries the locale used unless ``outbox_locale`` is given (``None``: no locale)."""
        if debtor is None:
            debtor = await uow.session.get(db.Debtor, contact.debtor_id)
        locale = self.locale_of(contact, debtor)
        conversations = uow.conversations
        if conversation is None:
            conversation = await conversations.get_or_create(contact)
        queued: list[Queued] = []
        for index, item in enumerate(replies):
            out = self.render(item, locale, contact.channel) if isinstance(item, Reply) else item
            has_key = "{message}" not in key
            row_key = _fill(key, index) if has_key else ""
            try:
                message = await conversations.add_message(
                    conversation, direction="out", author=author, text=out.text,
                    channel=contact.channel, status=status, template=out.template,
                    template_vars=encode(dict(out.variables)) if out.template else None,
                    buttons=out.buttons or None,
                    idempotency_key=row_key if message_key and has_key else None,
                )
            except DuplicateMessage as duplicate:
                message = duplicate.existing
            outbox = None
            if contact.channel != WEB:
                outbox = await uow.outbox.enqueue(
                    channel=contact.channel, address=contact.address, text=out.text,
                    buttons=out.buttons or None, message_id=message.id, contact_id=contact.id,
                    template=out.template,
                    template_vars=encode(dict(out.variables)) if out.template else None,
                    locale=locale if outbox_locale == "" else outbox_locale,
                    initiated_by=initiated_by, not_before=not_before, not_after=not_after,
                    idempotency_key=row_key or _fill(key, index, message.id),
                    media=out.media if contact.channel in self._picture_channels else None,
                )
            queued.append(Queued(message, out, outbox))
        return queued


def _fill(key: str, index: int, message: int | None = None) -> str:
    filled = key.replace("{index}", str(index))
    return filled if message is None else filled.replace("{message}", str(message))
