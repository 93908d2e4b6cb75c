"""What a command produced: replies as template keys with plain variables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.services.plain_values import decode, encode


@dataclass(frozen=True)
class Button:
    title_template: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """A reply to render: ``template`` under templates/<locale>/, with plain ``variables``."""

    template: str
    variables: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()

    def as_payload(self) -> dict[str, Any]:
        return {
            "template": self.template,
            "vars": encode(self.variables),
            "buttons": [{"title": b.title_template, "payload": b.payload} for b in self.buttons],
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Reply:
        return cls(
            template=str(payload["template"]),
            variables=dict(decode(payload.get("vars") or {})),
            buttons=tuple(
                Button(str(b["title"]), str(b["payload"])) for b in payload.get("buttons") or ()
            ),
        )


@dataclass(frozen=True)
class Outcome:
    """``slots``: further dialogue slot values to set (keys: ``bot.dialogue.names.Slot``)."""

    replies: tuple[Reply, ...] = ()
    offer_pending: bool | None = None
    paused: bool = False
    slots: dict[str, Any] = field(default_factory=dict)
