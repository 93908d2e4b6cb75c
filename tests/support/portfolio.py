"""A one-debtor portfolio (Acme, one debt NF-9 of R$ 1.000,00) and loading it through the admin API."""

from __future__ import annotations

from typing import Any

import httpx

PORTFOLIO: dict[str, Any] = {
    "creditor": "demo",
    "debtors": [{
        "external_id": "acme", "name": "Acme Comércio Ltda", "tax_id": "52.601.815/9083-69",
        "timezone": "America/Sao_Paulo", "locale": "pt-BR",
        "contacts": [{"name": "Rita Alves", "channel": "web", "address": "rita@acme.com.br"}],
        "debts": [{"external_id": "NF-9", "amount": "1000.00", "currency": "BRL",
                   "due_date": "2026-10-01", "description": "NF 9"}],
    }],
}


async def load(client: httpx.AsyncClient, admin: dict[str, str], body: dict[str, Any] | None = None
               ) -> httpx.Response:
    return await client.post("/api/v1/portfolio", json=body or PORTFOLIO, headers=admin)
