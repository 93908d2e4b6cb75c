"""Building one outgoing e-mail: multipart text and HTML from the same rendered text.

The text is the rendered template (the same one every channel sends); the HTML part is that
text escaped, its paragraphs and line breaks kept and its web addresses made links, inside
a small inline-styled layout (mail clients strip style sheets and scripts). Both parts end
with the creditor's identification and, when the contact can opt out by link, how to.

A picture (the PIX QR code) goes inline (``cid:``) in the HTML part; the text part carries
the copy-and-paste code already. Files (the agreement terms PDF) go as attachments.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from bot.channels.base import Attachment, MailParts, MediaSpec

_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_HEADER_UNSAFE = re.compile(r"[\r\n\x00]")
SUBJECT_MAX_CHARS = 200


def message_id(idempotency_key: str, domain: str) -> str:
    """The ``Message-ID`` of the outbox row keyed ``idempotency_key``: the same on a retry,
    so a message sent twice after a crash is one message to the receiving clients."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.acordo@{domain}>"


def header_text(value: str, limit: int = SUBJECT_MAX_CHARS) -> str:
    """One header line: no line breaks (no header injection), at most ``limit`` characters."""
    flat = " ".join(_HEADER_UNSAFE.sub(" ", value).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def html_body(text: str, footer: str, lang: str, picture_cid: str | None = None) -> str:
    """The HTML part: ``text`` escaped, paragraphs and line breaks kept, links live."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "".join(f'<p style="margin:0 0 1em">{_linked(p)}</p>' for p in paragraphs)
    if picture_cid:
        body += (f'<p style="margin:0 0 1em"><img src="cid:{picture_cid}" width="220" '
                 'height="220" alt="QR Code PIX"></p>')
    foot = "".join(f'<p style="margin:0 0 .5em">{_linked(p)}</p>'
                   for p in footer.strip().split("\n") if p.strip())
    return (f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
            '<body style="margin:0;padding:16px;font-family:Arial,Helvetica,sans-serif;'
            'font-size:16px;line-height:1.5;color:#1a1a1a;background:#ffffff">'
            f'<div style="max-width:600px;margin:0 auto">{body}'
            '<hr style="border:0;border-top:1px solid #cccccc;margin:24px 0">'
            f'<div style="font-size:13px;color:#444444">{foot}</div></div></body></html>')


def _linked(paragraph: str) -> str:
    escaped = html.escape(paragraph)
    linked = _URL.sub(lambda m: f'<a href="{m.group(0)}" style="color:#0645ad">{m.group(0)}</a>',
                      escaped)
    return linked.replace("\n", "<br>")


def build_message(*, sender: Address, to: str, text: str, parts: MailParts, key: str,
                  domain: str, now: datetime, picture: MediaSpec | None = None) -> EmailMessage:
    """The whole e-mail for one outbox row (``key``: its idempotency key)."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = header_text(parts.subject)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = message_id(key, domain)
    if parts.reply_to:
        mail["Reply-To"] = parts.reply_to
    _thread_headers(mail, parts.in_reply_to, parts.references)
    _unsubscribe_headers(mail, parts)
    plain = text.strip() + ("\n\n-- \n" + parts.footer.strip() if parts.footer.strip() else "")
    mail.set_content(plain + "\n", subtype="plain", charset="utf-8", cte="quoted-printable")
    cid = None
    if picture is not None and picture.png:
        cid = message_id(f"{key}:picture", domain)[1:-1]
    mail.add_alternative(html_body(text, parts.footer, parts.html_lang, cid), subtype="html",
                         charset="utf-8", cte="quoted-printable")
    if cid is not None and picture is not None and picture.png:
        html_part = next(p for p in mail.iter_parts() if p.get_content_type() == "text/html")
        html_part.add_related(picture.png, maintype="image", subtype="png", cid=f"<{cid}>",
                              filename=picture.filename, disposition="inline")
    _attach(mail, parts.attachments)
    return mail


def _thread_headers(mail: EmailMessage, in_reply_to: str | None, references: Sequence[str]) -> None:
    if in_reply_to:
        mail["In-Reply-To"] = header_text(in_reply_to, 998)
    chain = [header_text(r, 998) for r in references if r]
    if in_reply_to and in_reply_to not in chain:
        chain.append(header_text(in_reply_to, 998))
    if chain:
        mail["References"] = " ".join(chain[-10:])


def _unsubscribe_headers(mail: EmailMessage, parts: MailParts) -> None:
    targets = []
    if parts.unsubscribe_url:
        targets.append(f"<{parts.unsubscribe_url}>")
    if parts.unsubscribe_mailto:
        targets.append(f"<{parts.unsubscribe_mailto}>")
    if targets:
        mail["List-Unsubscribe"] = ", ".join(targets)
    if parts.unsubscribe_url:  # RFC 8058: one click, by POST, to an https (or test http) URL
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"


def _attach(mail: EmailMessage, attachments: Sequence[Attachment]) -> None:
    if not attachments:
        return
    if mail.get_content_type() != "multipart/mixed":
        mail.make_mixed()
    for item in attachments:
        maintype, _, subtype = item.content_type.partition("/")
        mail.add_attachment(item.content, maintype=maintype, subtype=subtype or "octet-stream",
                            filename=item.filename)
