"""The agent desk sends through the one outgoing path: a channel-specific template version
wins on its channel, and the debtor's locale is the one spoken (never a fixed pt-BR)."""

from __future__ import annotations

from tests.support.agent_console import ADDRESS, post
from tests.web.conftest import Site


async def debtor_texts(site: Site) -> list[str]:
    async with site.debtor_client() as debtor:
        polled = (await debtor.get("/channels/web/messages", params={"sender": ADDRESS})).json()
    return [m["text"] for m in polled["messages"]]


async def offer_ten_installments(site: Site, public_id: str) -> None:
    async with site.signed_in("alice") as http:
        await post(http, public_id, "take")
        await post(http, public_id, "offer", kind="installments", count="10")


async def test_an_agent_offer_uses_the_version_saved_for_the_channel(site: Site) -> None:
    public_id = await site.waiting_conversation()
    site.container.renderer.set_stored("offer_installments", "pt-BR", "WEB-VERSION {{ offer.count }}x",
                                       channel="web")
    site.container.renderer.set_stored("offer_installments", "pt-BR", "WA-VERSION", channel="whatsapp")
    await offer_ten_installments(site, public_id)
    assert await debtor_texts(site) == ["WEB-VERSION 10x"]


async def test_an_english_debtor_gets_the_agent_offer_and_hand_back_in_english(site: Site) -> None:
    public_id = await site.waiting_conversation(locale="en")
    await offer_ten_installments(site, public_id)
    async with site.signed_in("alice") as http:
        await post(http, public_id, "handback", note="")
    offer, handback = await debtor_texts(site)
    assert "10 installments" in offer and "parcelas" not in offer
    assert handback.startswith("Thank you for waiting")
