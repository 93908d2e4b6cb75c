"""Reading a fetched e-mail: the debtor's reply, a bounce, or traffic never to answer.

``inbound_message`` turns one e-mail (``{"raw": "<RFC 5322 text>"}``) into the debtor's
message: the sender's address, the new text only (quoted history and signature cut by
``mail-parser-reply``, with the Portuguese "Em <data>, <nome> escreveu:" header it does not
know), and the ``Message-ID`` as the provider id. It answers ``None`` for what must never
be answered (RFC 3834 automatic replies, out-of-office notices, mailing-list traffic,
delivery-status notifications, no-reply senders, our own messages) — :func:`kind_of` says which.

``delivery_report`` reads a delivery-status notification (RFC 3464): ``Action: failed`` with
a 5.x.x status is a hard bounce (the address is unreachable), 4.x.x a soft one (retry);
``delivered`` is a delivery. The report names the original ``Message-ID``, our provider id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from email import message_from_bytes, message_from_string, policy
from email.message import EmailMessage, Message
from email.utils import parseaddr
from html import unescape
from typing import Any, Literal

from mailparser_reply import EmailReplyParser

from bot.channels.base import DeliveryReport, DeliveryState, InboundMessage

Kind = Literal["reply", "auto_reply", "list", "bounce", "own", "no_reply", "junk"]
_NO_REPLY = re.compile(r"^(no-?reply|do-?not-?reply|nao-?responda|naoresponda)([+._-].*)?$", re.IGNORECASE)
_OUT_OF_OFFICE = re.compile(
    r"\b(aus[eê]ncia|ausente|f[eé]rias|fora do escrit[oó]rio|resposta autom[aá]tica|"
    r"out of (the )?office|automatic reply|auto[- ]?reply|autoreply|on vacation|away from)\b",
    re.IGNORECASE)
# Quoted-reply headers mail-parser-reply does not know (Portuguese clients: Gmail, Outlook).
_PT_QUOTE_HEADER = re.compile(r"^\s*(Em .{4,200}?escreveu:|-{2,}\s*Mensagem original\s*-{2,}|"
                              r"De:\s.+\n\s*(Enviad[ao]|Data):)", re.IGNORECASE | re.MULTILINE)
_REPLIES = EmailReplyParser(languages=["en", "es"])
TEXT_MAX_CHARS = 4000


def parse_mail(payload: Mapping[str, Any]) -> EmailMessage | None:
    raw = payload.get("raw")
    if isinstance(raw, bytes):
        parsed: Message = message_from_bytes(raw, policy=policy.default)
    elif isinstance(raw, str) and raw.strip():
        parsed = message_from_string(raw, policy=policy.default)
    else:
        return None
    return parsed if isinstance(parsed, EmailMessage) else None


def sender_of(mail: EmailMessage) -> str:
    return parseaddr(str(mail.get("From", "")))[1].strip()


def kind_of(mail: EmailMessage, own_domain: str | None = None) -> Kind:
    """What an e-mail is, for whether it may be answered."""
    sender = sender_of(mail)
    if "@" not in sender:
        return "junk"
    if mail.get_content_type() == "multipart/report" or sender.lower().startswith(
            ("mailer-daemon@", "postmaster@")):
        return "bounce"
    if own_domain and sender.lower().endswith("@" + own_domain.lower()):
        return "own"
    if _NO_REPLY.match(sender.partition("@")[0]):
        return "no_reply"
    auto = str(mail.get("Auto-Submitted", "no")).strip().lower()
    if auto != "no" or mail.get("X-Autoreply") or mail.get("X-Autorespond") \
            or str(mail.get("X-Auto-Response-Suppress", "")).lower() in ("all", "oof"):
        return "auto_reply"
    if _OUT_OF_OFFICE.search(str(mail.get("Subject", ""))):
        return "auto_reply"
    precedence = str(mail.get("Precedence", "")).strip().lower()
    if mail.get("List-Id") or precedence in ("bulk", "list", "junk"):
        return "list"
    return "reply"


def reply_text(mail: EmailMessage) -> str:
    """The new text of a reply: the plain part (else the HTML's text), without the quoted
    history and signature."""
    body = mail.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = str(body.get_content())
    if body.get_content_type() == "text/html":
        content = _html_text(content)
    content = content.replace("\r\n", "\n")
    cut = _PT_QUOTE_HEADER.search(content)
    if cut:
        content = content[: cut.start()]
    latest = _REPLIES.parse_reply(text=content) or content
    lines = [line for line in latest.split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()[:TEXT_MAX_CHARS]


def _html_text(markup: str) -> str:
    without = re.sub(r"(?is)<(script|style|blockquote)\b.*?</\1>", " ", markup)
    without = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", without)
    text = re.sub(r"<[^>]+>", " ", without)
    return unescape(re.sub(r"[ \t]+", " ", text))


def inbound_message(payload: Mapping[str, Any], own_domain: str | None = None
                    ) -> InboundMessage | None:
    """The debtor's message in a fetched e-mail, or ``None`` when it is not one to answer."""
    mail = parse_mail(payload)
    if mail is None or kind_of(mail, own_domain) != "reply":
        return None
    message_id = str(mail.get("Message-ID", "")).strip()
    if not message_id:
        return None
    return InboundMessage(channel="email", address=sender_of(mail), text=reply_text(mail),
                          provider_id=message_id)


def delivery_report(payload: Mapping[str, Any]) -> DeliveryReport | None:
    """A delivery-status notification (RFC 3464) about one of our e-mails, or ``None``."""
    mail = parse_mail(payload)
    if mail is None or mail.get_content_type() != "multipart/report":
        return None
    original, action, status = None, "", ""
    for part in mail.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            action, status = _status_fields(part)
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_id(part)
    if not original or not action:
        return None
    if action == "delivered":
        return DeliveryReport(original, DeliveryState.DELIVERED)
    if action == "failed":
        return DeliveryReport(original, DeliveryState.FAILED,
                              error_code=("hard " if status.startswith("5") else "soft ") + status)
    return None


def _status_fields(part: Message) -> tuple[str, str]:
    text = "\n".join(str(block) for block in part.get_payload()) \
        if part.is_multipart() else str(part.get_payload())
    action = re.search(r"(?im)^Action:\s*([a-z]+)", text)
    status = re.search(r"(?im)^Status:\s*([245]\.\d{1,3}\.\d{1,3})", text)
    return (action.group(1).lower() if action else "", status.group(1) if status else "")


def _original_id(part: Message) -> str | None:
    text = "\n".join(str(block) for block in part.get_payload()) \
        if part.is_multipart() else str(part.get_payload())
    found = re.search(r"(?im)^Message-ID:\s*(<[^>\s]+>)", text)
    return found.group(1) if found else None
