"""The DialogueEngine port and its Rasa implementation (an HTTP client).

Nothing else in ``bot/`` depends on Rasa's wire shapes: the engine turns
Rasa's REST channel answer into :class:`~bot.conversation.outcome.Reply` objects.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from bot.conversation.outcome import Reply


class DialogueUnavailable(Exception):
    """The dialogue engine could not answer in time (down, slow or broken)."""


class DialogueEngine(Protocol):
    async def respond(self, conversation_id: str, text: str,
                      metadata: dict[str, Any] | None = None) -> list[Reply]: ...

    async def is_ready(self) -> bool: ...


class RasaDialogueEngine:
    """Talks to a Rasa 3.6 server: REST channel for turns, HTTP API for status."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str | None,
                 timeout: float) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    async def respond(self, conversation_id: str, text: str,
                      metadata: dict[str, Any] | None = None) -> list[Reply]:
        body = {"sender": conversation_id, "message": text, "metadata": metadata or {}}
        try:
            response = await self._client.post(
                f"{self._base}/webhooks/rest/webhook", json=body, timeout=self._timeout
            )
            response.raise_for_status()
            messages = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DialogueUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(messages, list):
            raise DialogueUnavailable(f"unexpected answer from Rasa: {messages!r:.200}")
        return [reply for message in messages if (reply := _to_reply(message)) is not None]

    async def resume(self, conversation_id: str, slots: dict[str, Any] | None = None) -> None:
        """Un-pause the conversation after a human agent hands it back.

        Appends ``resume`` (ConversationResumed), ``action_listen`` (so the next message
        starts a fresh turn for the rules) and the given slot values to the tracker
        through Rasa's HTTP API. Raises :class:`DialogueUnavailable` on failure.
        """
        events: list[dict[str, Any]] = [{"event": "resume"},
                                        {"event": "action", "name": "action_listen"}]
        events += [{"event": "slot", "name": name, "value": value}
                   for name, value in (slots or {}).items()]
        params = {"token": self._token} if self._token else {}
        try:
            response = await self._client.post(
                f"{self._base}/conversations/{conversation_id}/tracker/events",
                params=params, json=events, timeout=self._timeout,
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DialogueUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def is_ready(self) -> bool:
        params = {"token": self._token} if self._token else {}
        try:
            response = await self._client.get(f"{self._base}/status", params=params, timeout=2.0)
        except httpx.HTTPError:
            return False
        if response.status_code != 200:
            return False
        return bool(response.json().get("model_file"))


def _to_reply(message: dict[str, Any]) -> Reply | None:
    custom = message.get("custom")
    if isinstance(custom, dict) and "template" in custom:
        return Reply.from_payload(custom)
    text = message.get("text")
    if text:
        # A plain Rasa text response (none are defined today) goes through verbatim.
        return Reply("raw_text", {"text": str(text)})
    return None
