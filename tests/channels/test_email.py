"""The e-mail channel against a real SMTP server (aiosmtpd): the message it sends (parts,
headers, threading, opt-out, no header or HTML injection), SMTP errors classified, replies
read without their quoted history, automatic replies and bounces told apart."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import dkim
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.base import (
    DeliveryState,
    MailParts,
    MediaSpec,
    OutboundMessage,
    RetryLater,
    Undeliverable,
)
from bot.channels.email import DkimKey, EmailChannel, SmtpServer
from bot.channels.email_inbound import delivery_report, inbound_message, kind_of, parse_mail
from bot.channels.email_mime import header_text, message_id
from bot.channels.email_tokens import MailTokens
from bot.channels.ratelimit import EmailRates
from bot.payments.qr import qr_png
from tests.support.smtp import SmtpSink, free_port

NOW = datetime(2026, 11, 26, 13, 0, tzinfo=UTC)
SENDER = Address("Distribuidora Exemplo", "cobranca", "exemplo.com.br")
TO = "marta@padaria.com.br"
PARTS = MailParts(subject="Distribuidora Exemplo: fatura em aberto",
                  footer="Distribuidora Exemplo Ltda · CNPJ 11.222.333/0001-81\n"
                         "Para não receber mais: https://acordo.example/u/7.abc",
                  reply_to="cobranca+7.aaaaaaaaaaaaaaaa@exemplo.com.br",
                  unsubscribe_url="https://acordo.example/u/7.abc",
                  unsubscribe_mailto="mailto:cobranca+7.abc@exemplo.com.br?subject=SAIR",
                  in_reply_to="<debtor-1@padaria.com.br>", references=("<debtor-1@padaria.com.br>",))


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


def channel(port: int) -> EmailChannel:
    return EmailChannel(SmtpServer("127.0.0.1", port, "none", timeout=5), SENDER, now=lambda: NOW)


def outbound(text: str = "Olá, Marta!\n\nA fatura NF-1 está em aberto: R$ 1.234,00.",
             key: str = "k-1", parts: MailParts | None = PARTS, **extra: object) -> OutboundMessage:
    return OutboundMessage(channel="email", address=TO, text=text, idempotency_key=key,
                           mail=parts, **extra)  # type: ignore[arg-type]


def parts_of(mail: EmailMessage) -> dict[str, str]:
    found = {}
    for part in mail.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            found[part.get_content_type()] = str(part.get_content()).replace("\r\n", "\n")
    return found


async def test_one_email_with_text_html_subject_footer_and_headers(sink: SmtpSink) -> None:
    receipt = await channel(sink.port).send(outbound())
    [got] = sink.received
    mail = got.message
    assert got.sender == "cobranca@exemplo.com.br" and got.recipients == [TO]
    assert mail["Subject"] == "Distribuidora Exemplo: fatura em aberto"
    assert mail["From"] == "Distribuidora Exemplo <cobranca@exemplo.com.br>"
    assert mail["Message-ID"] == receipt.provider_id == message_id("k-1", "exemplo.com.br")
    assert mail["Reply-To"] == "cobranca+7.aaaaaaaaaaaaaaaa@exemplo.com.br"
    assert mail["In-Reply-To"] == "<debtor-1@padaria.com.br>"
    assert mail["References"] == "<debtor-1@padaria.com.br>"
    assert mail["List-Unsubscribe"] == ("<https://acordo.example/u/7.abc>, "
                                        "<mailto:cobranca+7.abc@exemplo.com.br?subject=SAIR>")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    body = parts_of(mail)
    assert body["text/plain"].startswith("Olá, Marta!\n\nA fatura NF-1 está em aberto: R$ 1.234,00.")
    assert "\n-- \nDistribuidora Exemplo Ltda · CNPJ 11.222.333/0001-81" in body["text/plain"]
    assert '<html lang="pt-BR">' in body["text/html"]
    assert "R$ 1.234,00" in body["text/html"] and "CNPJ 11.222.333/0001-81" in body["text/html"]
    assert '<a href="https://acordo.example/u/7.abc"' in body["text/html"]


async def test_the_same_key_sends_once_and_a_retry_keeps_the_message_id(sink: SmtpSink) -> None:
    email = channel(sink.port)
    first = await email.send(outbound(key="k-2"))
    again = await email.send(outbound(key="k-2"))
    assert first.provider_id == again.provider_id and len(sink.received) == 1
    # Another process (a restart) sending the same row again gives the same Message-ID.
    other = await channel(sink.port).send(outbound(key="k-2"))
    assert other.provider_id == first.provider_id
    assert sink.received[0].message["Message-ID"] == sink.received[1].message["Message-ID"]


async def test_the_pix_qr_goes_inline_in_the_html(sink: SmtpSink) -> None:
    png = qr_png("00020126360014br.gov.bcb.pix")
    picture = MediaSpec("pix-AC1.png", png, "https://acordo.example/pay/AC1.png")
    await channel(sink.port).send(outbound(key="k-pic", media=picture))
    mail = sink.received[0].message
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0].get_content() == png
    cid = str(images[0]["Content-ID"]).strip("<>")
    assert f'src="cid:{cid}"' in parts_of(mail)["text/html"]


async def test_no_header_injection_and_no_html_injection(sink: SmtpSink) -> None:
    hostile = MailParts(subject="Fatura\r\nBcc: everyone@example.com", footer="<b>x</b>")
    await channel(sink.port).send(outbound("<script>alert(1)</script> & <img src=x>", key="k-h",
                                           parts=hostile))
    [got] = sink.received
    assert got.recipients == [TO] and got.message["Bcc"] is None
    assert got.message["Subject"] == "Fatura Bcc: everyone@example.com"
    html = parts_of(got.message)["text/html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>x</b>" not in html


@given(st.text(max_size=400))
@settings(max_examples=200, deadline=None)
def test_a_header_text_is_always_one_bounded_line(value: str) -> None:
    line = header_text(value)
    assert "\n" not in line and "\r" not in line and "\x00" not in line
    assert len(line) <= 200


async def test_a_refused_address_is_unreachable_a_busy_server_retries(sink: SmtpSink) -> None:
    sink.handler.refuse[TO] = "550 5.1.1 <marta@padaria.com.br>: no such user"
    with pytest.raises(Undeliverable) as refused:
        await channel(sink.port).send(outbound(key="k-550"))
    assert refused.value.unreachable
    sink.handler.refuse[TO] = "452 4.2.2 mailbox full"
    with pytest.raises(RetryLater):
        await channel(sink.port).send(outbound(key="k-452"))
    del sink.handler.refuse[TO]
    sink.handler.fail_next.append("451 4.3.0 try again later")
    with pytest.raises(RetryLater):
        await channel(sink.port).send(outbound(key="k-451"))
    assert sink.received == []
    await channel(sink.port).send(outbound(key="k-451"))
    assert len(sink.received) == 1


async def test_a_server_that_is_down_is_retried_later() -> None:
    with pytest.raises(RetryLater):
        await channel(free_port()).send(outbound(key="k-down"))


def raw_reply(text: str, **headers: str) -> str:
    mail = MIMEText(text, "plain", "utf-8")
    mail["From"] = headers.pop("From", "Marta <marta@padaria.com.br>")
    mail["To"] = "cobranca+7.aaaaaaaaaaaaaaaa@exemplo.com.br"
    mail["Subject"] = headers.pop("Subject", "Re: Distribuidora Exemplo: fatura em aberto")
    mail["Message-ID"] = headers.pop("Message-ID", "<reply-1@padaria.com.br>")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    return mail.as_string()


@pytest.mark.parametrize("quoted", [
    "Bom dia, ja pagamos ontem.\n\nEm qui., 26 de nov. de 2026 às 10:00, Distribuidora Exemplo "
    "<cobranca@exemplo.com.br> escreveu:\n> Olá, Marta!\n> A fatura NF-1 está em aberto.",
    "Bom dia, ja pagamos ontem.\n\n-----Mensagem original-----\nDe: Distribuidora Exemplo\n"
    "Enviada em: quinta-feira\nA fatura NF-1 está em aberto.",
    "Bom dia, ja pagamos ontem.\n\nDe: Distribuidora Exemplo <cobranca@exemplo.com.br>\n"
    "Enviado: quinta-feira, 26 de novembro de 2026 10:00\nAssunto: fatura",
    "Bom dia, ja pagamos ontem.\n\nOn Thu, Nov 26, 2026 at 10:00 AM Distribuidora Exemplo "
    "<cobranca@exemplo.com.br> wrote:\n> Hello Marta",
    "Bom dia, ja pagamos ontem.\n> Olá, Marta!\n> A fatura NF-1 está em aberto.",
])
def test_a_reply_is_read_without_its_quoted_history(quoted: str) -> None:
    message = inbound_message({"raw": raw_reply(quoted)}, own_domain="exemplo.com.br")
    assert message is not None
    assert message.channel == "email" and message.address == "marta@padaria.com.br"
    assert message.text == "Bom dia, ja pagamos ontem."
    assert message.provider_id == "<reply-1@padaria.com.br>"


def test_an_html_only_reply_is_read_as_text() -> None:
    mail = MIMEMultipart("alternative")
    mail["From"] = "joe@beta.example"
    mail["Message-ID"] = "<h-1@beta.example>"
    mail.attach(MIMEText("<div>We can pay <b>on Friday</b>.</div><blockquote>Hello Joe</blockquote>"
                         "<script>x()</script>", "html", "utf-8"))
    message = inbound_message({"raw": mail.as_string()})
    assert message is not None and message.text == "We can pay on Friday ."


@pytest.mark.parametrize(("headers", "kind"), [
    ({"Auto_Submitted": "auto-replied"}, "auto_reply"),
    ({"X_Autoreply": "yes"}, "auto_reply"),
    ({"Subject": "Resposta automática: fatura em aberto"}, "auto_reply"),
    ({"Subject": "Ausência temporária - férias"}, "auto_reply"),
    ({"Subject": "Out of Office: open invoice"}, "auto_reply"),
    ({"Precedence": "bulk"}, "list"),
    ({"List_Id": "<financeiro.padaria.com.br>"}, "list"),
    ({"From": "MAILER-DAEMON@padaria.com.br"}, "bounce"),
    ({"From": "cobranca@exemplo.com.br"}, "own"),
    ({}, "reply"),
])
def test_traffic_never_to_answer_is_told_apart(headers: dict[str, str], kind: str) -> None:
    mail = parse_mail({"raw": raw_reply("Estou fora até segunda.", **headers)})
    assert mail is not None and kind_of(mail, "exemplo.com.br") == kind
    answered = inbound_message({"raw": raw_reply("x", **headers)}, own_domain="exemplo.com.br")
    assert (answered is not None) == (kind == "reply")


def dsn(action: str, status: str, original: str = "<abc.acordo@exemplo.com.br>") -> str:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.padaria.com.br>\n"
        "To: cobranca@exemplo.com.br\nSubject: Undelivered Mail Returned to Sender\n"
        "Message-ID: <dsn-1@mx.padaria.com.br>\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nThe message could not be delivered.\n\n"
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.padaria.com.br\n\n"
        f"Final-Recipient: rfc822; marta@padaria.com.br\nAction: {action}\nStatus: {status}\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n"
        f"From: cobranca@exemplo.com.br\nTo: marta@padaria.com.br\nMessage-ID: {original}\n\n--B--\n")


def test_bounces_report_hard_and_soft_failures_by_the_original_message_id() -> None:
    hard = delivery_report({"raw": dsn("failed", "5.1.1")})
    assert hard is not None and hard.provider_id == "<abc.acordo@exemplo.com.br>"
    assert hard.state == DeliveryState.FAILED and hard.error_code == "hard 5.1.1"
    soft = delivery_report({"raw": dsn("failed", "4.2.2")})
    assert soft is not None and soft.error_code == "soft 4.2.2"
    delivered = delivery_report({"raw": dsn("delivered", "2.0.0")})
    assert delivered is not None and delivered.state == DeliveryState.DELIVERED
    assert delivery_report({"raw": dsn("delayed", "4.4.7")}) is None
    assert delivery_report({"raw": raw_reply("oi")}) is None
    assert delivery_report({"raw": ""}) is None and delivery_report({}) is None
    assert inbound_message({"raw": dsn("failed", "5.1.1")}) is None


def test_tokens_name_one_contact_for_one_purpose() -> None:
    tokens = MailTokens("a-secret-of-sixteen-chars")
    opt_out = tokens.opt_out(42)
    assert tokens.read_opt_out(opt_out) == 42 and tokens.read_opt_out(opt_out.upper()) == 42
    assert tokens.read_reply(opt_out) is None  # another purpose
    assert tokens.read_opt_out(tokens.opt_out(43).replace("43.", "42.")) is None  # another contact
    assert MailTokens("another-secret-0123456").read_opt_out(opt_out) is None
    for junk in ("", "42", "42.", "x.abc", "42." + "a" * 40, "../../etc"):
        assert tokens.read_opt_out(junk) is None


def test_email_limits_pace_the_sending_domain_each_receiving_domain_and_the_address() -> None:
    rates = EmailRates(5, 0.2, 0.0, sender_domain="exemplo.com.br", per_domain_per_second=1)
    limits = rates.limits("email", "Marta@Padaria.com.br")
    assert [limit.key for limit in limits] == ["email:from:exemplo.com.br", "email:to:padaria.com.br",
                                               "email:chat:Marta@Padaria.com.br"]
    # the address' interval keeps the per-chat slack of every channel (0.1 s)
    assert [round(limit.interval, 3) for limit in limits] == [0.2, 1.0, 5.1]


@pytest.fixture(scope="module")
def dkim_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, str]:
    """An RSA key pair made for the test (openssl): the private PEM and the DNS TXT value."""
    folder = tmp_path_factory.mktemp("dkim")
    private = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(private), "2048"], check=True,
                   capture_output=True)
    public = subprocess.run(["openssl", "rsa", "-in", str(private), "-pubout"], check=True,
                            capture_output=True).stdout.decode()
    body = "".join(line for line in public.splitlines() if "-----" not in line)
    return private.read_bytes(), f"v=DKIM1; k=rsa; p={body}"


async def test_a_signed_email_verifies_against_the_domains_key(sink: SmtpSink,
                                                               dkim_keys: tuple[bytes, str]) -> None:
    private, record = dkim_keys
    signed = EmailChannel(SmtpServer("127.0.0.1", sink.port, "none", timeout=5), SENDER,
                          now=lambda: NOW, dkim_key=DkimKey("acordo2026", private))
    await signed.send(outbound(key="k-dkim"))
    [got] = sink.received
    assert got.message["DKIM-Signature"] is not None
    signature = str(got.message["DKIM-Signature"])
    assert "d=exemplo.com.br" in signature and "s=acordo2026" in signature
    for header in ("from", "subject", "message-id", "list-unsubscribe"):
        assert header in signature.lower()

    def dns(name: bytes, timeout: int = 5) -> bytes:
        return record.encode() if name == b"acordo2026._domainkey.exemplo.com.br." else b""

    assert dkim.verify(got.raw, dnsfunc=dns)
    tampered = got.raw.replace(b"Distribuidora Exemplo: fatura em aberto", b"Pague agora")
    assert not dkim.verify(tampered, dnsfunc=dns)


async def test_connections_are_reused_and_a_closed_one_is_replaced() -> None:
    sink = SmtpSink(idle_timeout=0.3).start()
    try:
        email = channel(sink.port)
        for n in range(12):
            await email.send(outbound(key=f"k-reuse-{n}"))
        assert len(sink.received) == 12 and len(sink.handler.connections) == 1
        await asyncio.sleep(0.8)  # the server closes the idle connection
        await email.send(outbound(key="k-after-idle"))
        assert len(sink.received) == 13 and len(sink.handler.connections) == 2
    finally:
        sink.stop()
