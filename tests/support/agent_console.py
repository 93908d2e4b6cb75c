"""Driving the agent console's forms in the web suites."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN
from tests.web.conftest import Site, csrf_of

ADDRESS = "ana@padaria.example"


async def post(http: httpx.AsyncClient, public_id: str, action: str, **data: Any) -> httpx.Response:
    page = await http.get(f"/agent/c/{public_id}")
    response = await http.post(f"/agent/c/{public_id}/{action}",
                               data={"csrf_token": csrf_of(page.text), **data})
    assert response.status_code == 303, response.text
    return response


async def open_claim(site: Site, amount: Decimal | None = Decimal("2500.00")) -> int:
    """A pending claim of the waiting debtor, with one receipt (as the bot would open it)."""
    public_id = await site.waiting_conversation()
    async with site.container.uow() as uow:
        conversation = await uow.conversations.by_public_id(public_id)
        assert conversation is not None
        claim = await uow.claims.open(debtor_id=conversation.contact.debtor_id,
                                      conversation_id=conversation.id, text="já paguei, TED 4471",
                                      at=site.container.clock.now())
        await uow.claims.add_details(claim, text="", at=site.container.clock.now(), amount=amount,
                                     reference="TED 4471", bank="Itaú")
        await uow.claims.attach(claim, content_type="image/png", size=3, content=b"PNG",
                                at=site.container.clock.now())
        await uow.commit()
        return claim.id


async def waiting_company(site: Site, key: str, name: str, tax_id: str, invoice: str) -> str:
    """Another debtor (company ``name``, CNPJ ``tax_id``, one invoice ``invoice``) whose web
    chat was handed to a person; its conversation's public id."""
    address = f"{key}@example.com"
    body = {"creditor": "demo", "debtors": [{
        "external_id": f"deb-{key}", "name": name, "tax_id": tax_id, "locale": "pt-BR",
        "contacts": [{"name": f"Contato {key}", "channel": "web", "address": address}],
        "debts": [{"external_id": invoice, "amount": "1000.00", "currency": "BRL",
                   "due_date": "2026-11-06", "description": "NF"}]}]}
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with site.client() as http:
        response = await http.post("/api/v1/portfolio", json=body, headers=headers)
        assert response.status_code == 200, response.text
        site.dialogue.down = True  # Rasa down: the bot hands the chat to a person
        await http.post("/channels/web/messages", json={"sender": address, "text": "oi"},
                        headers=headers)
        site.dialogue.down = False
    [item] = [i for i in await site.container.agent_desk.queue() if i.debtor_name == name]
    return item.public_id
