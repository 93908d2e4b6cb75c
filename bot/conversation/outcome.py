"""What a command produced: replies as template keys with plain variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.channels.base import MediaRef
from bot.conversation.plain_values import decode, encode


@dataclass(frozen=True)
class Button:
    title_template: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """A reply to render: ``template`` under templates/<locale>/, with plain ``variables``;
    ``media``: a picture sent with it (the PIX QR code of payment instructions)."""

    template: str
    variables: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    media: MediaRef | None = None

    def as_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "template": self.template,
            "vars": encode(self.variables),
            "buttons": [{"title": b.title_template, "payload": b.payload} for b in self.buttons],
        }
        if self.media is not None:
            payload["media"] = {"kind": self.media.kind, "ref": self.media.ref}
        return payload

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Reply:
        media = payload.get("media")
        return cls(
            template=str(payload["template"]),
            variables=dict(decode(payload.get("vars") or {})),
            buttons=tuple(
                Button(str(b["title"]), str(b["payload"])) for b in payload.get("buttons") or ()
            ),
            media=MediaRef(str(media["kind"]), str(media["ref"])) if isinstance(media, dict) else None,
        )


@dataclass(frozen=True)
class Outcome:
    """``slots``: further dialogue slot values to set (keys: ``bot.dialogue.names.Slot``)."""

    replies: tuple[Reply, ...] = ()
    offer_pending: bool | None = None
    paused: bool = False
    slots: dict[str, Any] = field(default_factory=dict)
