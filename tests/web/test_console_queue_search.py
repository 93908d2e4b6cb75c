"""The queue's search (company name, CNPJ with or without punctuation, invoice id) and filters
("mine", waiting longest or largest balance first), answered by the server from the query."""

from __future__ import annotations

from datetime import timedelta

import httpx

from bot.clock import FixedClock
from tests.support.agent_console import post, waiting_company
from tests.web.conftest import Site


async def companies(site: Site) -> dict[str, str]:
    """Three chats handed off five minutes apart: Ferragens (1000), Padaria (6000), Tintas (1000)."""
    clock = site.container.clock
    assert isinstance(clock, FixedClock)
    ferro = await waiting_company(site, "ferro", "Ferragens Norte S.A.", "04.252.011/0001-10",
                                  "FAT-2026-0815")
    clock.moment += timedelta(minutes=5)
    padaria = await site.waiting_conversation()  # Padaria Sol Ltda, 11.444.777/0001-61
    clock.moment += timedelta(minutes=5)
    tinta = await waiting_company(site, "tinta", "Tintas 100% Cor ME", "33000167000101", "NF-77")
    return {"ferro": ferro, "padaria": padaria, "tinta": tinta}


def listed(page: httpx.Response, ids: dict[str, str]) -> set[str]:
    return {key for key, public_id in ids.items() if f'data-conversation="{public_id}"' in page.text}


async def test_search_by_name_cnpj_and_invoice(site: Site) -> None:
    ids = await companies(site)
    async with site.signed_in("alice") as http:
        assert listed(await http.get("/agent"), ids) == {"padaria", "ferro", "tinta"}
        assert listed(await http.get("/agent", params={"q": "ferragens"}), ids) == {"ferro"}
        assert listed(await http.get("/agent", params={"q": "04.252.011/0001-10"}), ids) == {"ferro"}
        assert listed(await http.get("/agent", params={"q": "04252011000110"}), ids) == {"ferro"}
        assert listed(await http.get("/agent", params={"q": "33.000.167/0001-01"}), ids) == {"tinta"}
        assert listed(await http.get("/agent", params={"q": "fat-2026-0815"}), ids) == {"ferro"}
        assert listed(await http.get("/agent", params={"q": "100%"}), ids) == {"tinta"}  # no wildcard
        nothing = await http.get("/agent", params={"q": "Inexistente"})
        assert listed(nothing, ids) == set() and "No conversation matches." in nothing.text
        searched = await http.get("/agent", params={"q": "Ferragens"})
        assert 'value="Ferragens"' in searched.text  # the box keeps the search


async def test_mine_and_the_two_orders(site: Site) -> None:
    ids = await companies(site)
    async with site.signed_in("alice") as alice, site.signed_in("bruno") as bruno:
        await post(alice, ids["tinta"], "take")
        await post(bruno, ids["ferro"], "take")
        assert listed(await alice.get("/agent", params={"mine": "1"}), ids) == {"tinta"}
        assert listed(await bruno.get("/agent", params={"mine": "1"}), ids) == {"ferro"}
        waiting = await alice.get("/agent", params={"sort": "waiting"})
        by_balance = await alice.get("/agent", params={"sort": "amount"})
    # Waiting longest first: the handoffs' order; by balance: Padaria's 6000 first.
    def order(page: httpx.Response) -> list[str]:
        return sorted(ids, key=lambda k: page.text.index(f'data-conversation="{ids[k]}"'))
    assert order(waiting) == ["ferro", "padaria", "tinta"]
    assert order(by_balance) == ["padaria", "ferro", "tinta"]


async def test_the_desk_searches_through_its_service(site: Site) -> None:
    ids = await companies(site)
    desk = site.container.agent_desk
    assert [i.public_id for i in await desk.queue(search="norte")] == [ids["ferro"]]
    assert [i.public_id for i in await desk.queue(search="nf-77")] == [ids["tinta"]]
    assert await desk.queue(held_by="alice") == []
