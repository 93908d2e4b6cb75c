"""Receipts sent as WhatsApp media or Telegram files: read from the webhook, fetched (Twilio
with the account's basic auth; Telegram through getFile, the emulators serving them), kept
when JPEG/PNG/PDF within the size limit, stored on the debtor's payment claim once, and
thanked without the dialogue when they come alone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.channels.base import InboundMedia
from bot.channels.receipts import ReceiptFetcher
from bot.channels.twilio import media_of
from bot.storage.claim_models import ClaimAttachment, PaymentClaim
from tests.channels.conftest import RITA, Stack, private_message, twilio_inbound

WHATSAPP = f"whatsapp:{RITA['whatsapp']}"
PDF = b"%PDF-1.4 comprovante TED 88213"
API = "https://api.twilio.example"


def test_media_fields_of_the_webhook_are_read() -> None:
    payload = {"NumMedia": "2", "MediaUrl0": "https://a/0", "MediaContentType0": "image/jpeg",
               "MediaUrl1": "https://a/1", "MediaContentType1": "application/pdf"}
    assert media_of(payload) == (InboundMedia("https://a/0", "image/jpeg"),
                                 InboundMedia("https://a/1", "application/pdf"))
    assert media_of({"NumMedia": "x"}) == () and media_of({"NumMedia": "0"}) == ()


def fetcher(files: dict[str, tuple[str, bytes]], seen: list[httpx.Request],
            max_bytes: int = 100) -> ReceiptFetcher:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        content_type, body = files.get(request.url.path, ("text/plain", b""))
        return httpx.Response(200 if request.url.path in files else 404, content=body,
                              headers={"content-type": content_type})

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return ReceiptFetcher(client, API, ("AC1", "secret"), max_bytes)


async def test_only_accepted_types_within_the_limit_from_the_provider_are_kept() -> None:
    seen: list[httpx.Request] = []
    files = {"/ok.pdf": ("application/pdf", PDF), "/big.png": ("image/png", b"x" * 101),
             "/lies.jpg": ("text/html", b"<html>")}
    got = await fetcher(files, seen).fetch([
        InboundMedia(f"{API}/ok.pdf", "application/pdf"),
        InboundMedia(f"{API}/big.png", "image/png"),            # over the limit
        InboundMedia(f"{API}/lies.jpg", "image/jpeg"),          # served as HTML
        InboundMedia(f"{API}/clip.mp4", "video/mp4"),           # a type we do not keep
        InboundMedia("https://elsewhere.example/ok.pdf", "application/pdf"),  # not the provider
        InboundMedia(f"{API}/gone.pdf", "application/pdf"),     # 404
    ])
    assert [(r.content_type, r.content) for r in got] == [("application/pdf", PDF)]
    assert {r.url.path for r in seen} == {"/ok.pdf", "/big.png", "/lies.jpg", "/gone.pdf"}
    assert all(r.headers["authorization"].startswith("Basic ") for r in seen)


async def claims_and_files(stack: Stack) -> tuple[list[PaymentClaim], list[ClaimAttachment]]:
    async with stack.container.sessions() as session:
        claims = list(await session.scalars(select(PaymentClaim)))
        files = list(await session.scalars(select(ClaimAttachment)))
    return claims, files


def with_media(stack: Stack, sid: str, body: str, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    return {**twilio_inbound(sid, WHATSAPP, body), **stack.twilio.inbound_media(sid, files)}


async def test_a_receipt_alone_opens_a_claim_and_is_thanked_once(stack: Stack) -> None:
    params = with_media(stack, "MM1", "", [("application/pdf", PDF)])
    for _ in range(2):  # Twilio retried the webhook
        response = await stack.twilio_post("/channels/twilio/messages", params)
        assert response.status_code == 200
    await stack.settle()
    [claim], [receipt] = await claims_and_files(stack)
    assert (claim.status, receipt.content_type, receipt.size, receipt.content) == (
        "pending", "application/pdf", len(PDF), PDF)
    assert stack.dialogue.calls == []  # answered without the dialogue
    [delivery] = stack.twilio.deliveries
    assert "Anotei" in delivery.text and "mande o comprovante" not in delivery.text  # not asked again


async def test_a_receipt_with_text_goes_to_the_dialogue_and_the_claim(stack: Stack) -> None:
    await stack.twilio_post("/channels/twilio/messages",
                            with_media(stack, "MM2", "segue o comprovante", [("image/png", b"PNG")]))
    await stack.settle()
    [claim], [receipt] = await claims_and_files(stack)
    assert receipt.content == b"PNG" and claim.status == "pending"
    assert [text for _, text in stack.dialogue.calls] == ["segue o comprovante"]


@pytest.mark.parametrize("settings_overrides", [{"receipt_max_bytes": 10}])
async def test_a_receipt_over_the_limit_is_not_kept(stack: Stack) -> None:
    await stack.twilio_post("/channels/twilio/messages",
                            with_media(stack, "MM3", "", [("application/pdf", PDF)]))
    await stack.settle()
    assert await claims_and_files(stack) == ([], [])
    [delivery] = stack.twilio.deliveries  # the empty-message reply, as for any empty message
    assert delivery.text


def telegram_file_message(update_id: int, field: str, value: Any, caption: str = "") -> dict[str, Any]:
    update = private_message(update_id, int(RITA["telegram"]), "")
    message = update["message"]
    del message["text"]
    message[field] = value
    if caption:
        message["caption"] = caption
    return update


async def test_a_telegram_document_is_fetched_through_get_file(stack: Stack) -> None:
    file_id = stack.telegram.add_file(PDF)
    document = {"file_id": file_id, "file_unique_id": file_id, "file_name": "comprovante.pdf",
                "mime_type": "application/pdf", "file_size": len(PDF)}
    response = await stack.telegram_update(telegram_file_message(501, "document", document))
    assert response.status_code == 200
    await stack.settle()
    [claim], [receipt] = await claims_and_files(stack)
    assert (receipt.content_type, receipt.content, claim.status) == ("application/pdf", PDF, "pending")
    assert stack.dialogue.calls == [] and ("getFile", {"file_id": file_id}) in [
        (m, {"file_id": p.get("file_id")}) for m, p in stack.telegram.calls]


async def test_a_telegram_photo_with_a_caption_reaches_the_dialogue(stack: Stack) -> None:
    small, large = stack.telegram.add_file(b"small", "s.jpg"), stack.telegram.add_file(b"LARGE", "l.jpg")
    photo = [{"file_id": small, "file_unique_id": small, "width": 90, "height": 90, "file_size": 5},
             {"file_id": large, "file_unique_id": large, "width": 900, "height": 900, "file_size": 5}]
    await stack.telegram_update(telegram_file_message(502, "photo", photo, caption="paguei ontem"))
    await stack.settle()
    [_], [receipt] = await claims_and_files(stack)
    assert (receipt.content_type, receipt.content) == ("image/jpeg", b"LARGE")
    assert [text for _, text in stack.dialogue.calls] == ["paguei ontem"]


async def test_a_telegram_document_of_another_type_is_not_kept(stack: Stack) -> None:
    file_id = stack.telegram.add_file(b"PK zip", "notes.zip")
    document = {"file_id": file_id, "file_unique_id": file_id, "mime_type": "application/zip",
                "file_size": 6}
    await stack.telegram_update(telegram_file_message(503, "document", document))
    await stack.settle()
    assert await claims_and_files(stack) == ([], [])
