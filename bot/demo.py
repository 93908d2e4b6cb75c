"""The demo creditor's portfolio: a few debtor companies with overdue invoices.

Due dates are relative to the day the demo is loaded, so the demo always has
something overdue. ``make run`` loads it; ``acordo demo load`` does too.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot import schemas


def demo_portfolio(today: date) -> schemas.PortfolioIn:
    def due(days_ago: int) -> str:
        return (today - timedelta(days=days_ago)).isoformat()

    raw = {
        "creditor": "demo",
        "debtors": [
            {
                "external_id": "padaria-sol", "name": "Padaria Sol Nascente Ltda",
                "tax_id": "52.601.815/9083-69", "timezone": "America/Sao_Paulo",
                "locale": "pt-BR",
                "contacts": [{"name": "Marina Souza", "channel": "web",
                              "address": "financeiro@padariasol.com.br"}],
                "debts": [
                    {"external_id": "NF-1001", "amount": "8000.00", "currency": "BRL",
                     "due_date": due(20), "description": "NF 1001 - farinha e insumos"},
                    {"external_id": "NF-1002", "amount": "4000.00", "currency": "BRL",
                     "due_date": due(12), "description": "NF 1002 - embalagens"},
                ],
            },
            {
                "external_id": "mercado-bom-preco", "name": "Mercado Bom Preço Eireli",
                "tax_id": "01.661.318/6091-64", "timezone": "America/Recife", "locale": "pt-BR",
                "contacts": [{"name": "Carlos Lima", "channel": "web",
                              "address": "contas@bompreco.com.br"}],
                "debts": [
                    {"external_id": "NF-2001", "amount": "15500.00", "currency": "BRL",
                     "due_date": due(45), "description": "NF 2001 - bebidas"},
                ],
            },
            {
                "external_id": "andes-trading", "name": "Andes Trading Importação Ltda",
                "tax_id": "39.099.603/0824-26", "timezone": "America/Sao_Paulo", "locale": "en",
                "contacts": [{"name": "John Carter", "channel": "web",
                              "address": "ap@andestrading.com"}],
                "debts": [
                    {"external_id": "NF-3001", "amount": "6000.00", "currency": "BRL",
                     "due_date": due(15), "description": "Invoice 3001 - packaging"},
                ],
            },
            {
                "external_id": "oficina-rapida", "name": "Oficina Rápida Serviços Ltda",
                "tax_id": "62.819.482/1993-00", "timezone": "America/Manaus", "locale": "pt-BR",
                "contacts": [{"name": "Ana Ribeiro", "channel": "web",
                              "address": "ana@oficinarapida.com.br"}],
                "debts": [
                    {"external_id": "NF-4001", "amount": "2300.00", "currency": "BRL",
                     "due_date": due(8), "description": "NF 4001 - peças"},
                ],
            },
        ],
    }
    return schemas.PortfolioIn.model_validate(raw)
