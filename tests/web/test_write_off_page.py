"""Writing a debt off from the admin's audit page: the debts listed with their amounts, a form
(reason + "Confirmo") for each debt that can still be written off, CSRF, admins only, refusals
that name the problem, and the write-off's audit event in the page's timeline. The admin reads
the page in Portuguese (the staff pages' default)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest
from sqlalchemy import select, update

from bot.storage import models as db
from bot.storage.repositories.portfolio import PortfolioRepository
from tests.conftest import ADMIN_TOKEN
from tests.web.conftest import Site, csrf_of

AUDIT = "/admin/debtors/padaria/audit"
REASON = "falência decretada"


def write_off_url(debt: str, debtor: str = "padaria") -> str:
    return f"/admin/debtors/{debtor}/debts/{debt}/write-off?creditor=demo"


@pytest.fixture
async def padaria(site: Site) -> Site:
    """A debtor with an open debt, a disputed one, one in an agreement and a paid one."""
    debts = [("NF-1", "6000.00", "2026-11-06", "NF 1 pães"), ("NF-2", "1250.50", "2026-10-01", "NF 2"),
             ("NF-3", "800.00", "2026-09-01", "NF 3"), ("NF-4", "300.00", "2026-08-01", "NF 4")]
    body = {"creditor": "demo", "debtors": [{
        "external_id": "padaria", "name": "Padaria Sol Ltda", "tax_id": "11.444.777/0001-61",
        "locale": "pt-BR",
        "contacts": [{"name": "Ana Souza", "channel": "web", "address": "ana@padaria.example"}],
        "debts": [{"external_id": ext, "amount": amount, "currency": "BRL", "due_date": due,
                   "description": description} for ext, amount, due, description in debts]}]}
    async with site.client() as http:
        response = await http.post("/api/v1/portfolio", json=body,
                                   headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status_code == 200, response.text
    debt = db.Debt.external_id
    async with site.container.sessions() as session:
        await session.execute(update(db.Debt).where(debt == "NF-2").values(status="disputed"))
        await session.execute(update(db.Debt).where(debt == "NF-3").values(status="in_agreement"))
        await session.execute(update(db.Debt).where(debt == "NF-4")
                              .values(status="paid", paid_amount=Decimal("300.00")))
        await session.commit()
    return site


async def statuses(site: Site) -> dict[str, str]:
    async with site.container.sessions() as session:
        return {d.external_id: d.status for d in await session.scalars(select(db.Debt))}


async def post_form(http: httpx.AsyncClient, debt: str, *, csrf: bool = True, **data: Any) -> httpx.Response:
    form: dict[str, Any] = {"reason": REASON, "confirmo": "1", **data}
    if csrf:
        form["csrf_token"] = csrf_of((await http.get(AUDIT)).text)
    return await http.post(write_off_url(debt), data=form)


async def test_the_page_lists_the_debts_with_money_formatted_and_a_form_where_it_applies(
        padaria: Site) -> None:
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        page = await http.get(AUDIT)
    assert page.status_code == 200
    text = page.text
    assert "<h2 id=\"debts\">Dívidas</h2>" in text and "NF 1 pães" in text and "06/11/2026" in text
    assert "R$ 6.000,00" in text and "R$ 1.250,50" in text and "R$ 0,00" in text  # Babel, pt-BR
    # Open and disputed debts have a form; in agreement and paid say why not.
    assert text.count('value="1" required> Confirmo') == 2
    assert 'action="/admin/debtors/padaria/debts/NF-1/write-off?creditor=demo"' in text
    assert 'action="/admin/debtors/padaria/debts/NF-2/write-off?creditor=demo"' in text
    assert "/debts/NF-3/write-off" not in text and "/debts/NF-4/write-off" not in text
    assert "em acordo ativo" in text and "paga: nada a baixar" in text


async def test_an_admin_writes_off_an_open_debt(padaria: Site) -> None:
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        response = await post_form(http, "NF-1")
        assert response.status_code == 303
        location = response.headers["location"]
        assert location.startswith(f"{AUDIT}?creditor=demo&msg=")
        assert "R$ 6.000,00 em aberto" in unquote_plus(location)
        page = await http.get(location)
    assert (await statuses(padaria))["NF-1"] == "written_off"
    text = page.text
    assert 'class="flash ok"' in text and "Dívida NF-1 baixada como perda" in text
    assert "debt_written_off" in text and REASON in text and "admin:carla" in text
    assert "debt=NF-1" in text and "outstanding=6000.00" in text
    assert "/debts/NF-1/write-off" not in text and "já baixada como perda" in text
    async with padaria.container.sessions() as session:
        [event] = list(await session.scalars(
            select(db.AuditEvent).where(db.AuditEvent.kind == "debt_written_off")))
    assert event.actor == "admin:carla" and event.data["reason"] == REASON
    assert event.debtor_id is not None


async def test_a_disputed_debt_can_be_written_off(padaria: Site) -> None:
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        assert (await post_form(http, "NF-2", reason="  contestação aceita  ")).status_code == 303
    assert (await statuses(padaria))["NF-2"] == "written_off"


async def test_agents_are_refused(padaria: Site) -> None:
    async with padaria.signed_in("alice") as http:
        assert (await http.get(AUDIT)).status_code == 403
        token = csrf_of((await http.get("/agent")).text)
        response = await http.post(write_off_url("NF-1"),
                                   data={"csrf_token": token, "reason": REASON, "confirmo": "1"})
        assert response.status_code == 403
    assert (await statuses(padaria))["NF-1"] == "open"


async def test_anonymous_visitors_are_sent_to_sign_in(padaria: Site) -> None:
    async with padaria.client() as http:
        page = await http.get(AUDIT)
        response = await http.post(write_off_url("NF-1"), data={"reason": REASON, "confirmo": "1"})
    for answer in (page, response):
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    assert (await statuses(padaria))["NF-1"] == "open"


async def test_a_missing_or_wrong_csrf_token_is_refused(padaria: Site) -> None:
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        assert (await post_form(http, "NF-1", csrf=False)).status_code == 403
        assert (await post_form(http, "NF-1", csrf=False, csrf_token="forged")).status_code == 403
    assert (await statuses(padaria))["NF-1"] == "open"


@pytest.mark.parametrize(("data", "problem"), [
    ({"reason": ""}, "informe o motivo da baixa"),
    ({"reason": "   "}, "informe o motivo da baixa"),
    ({"confirmo": ""}, "marque “Confirmo”"),
])
async def test_an_incomplete_form_names_the_problem(padaria: Site, data: dict[str, str],
                                                     problem: str) -> None:
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        response = await post_form(http, "NF-1", **data)
        assert response.status_code == 303 and "error=" in response.headers["location"]
        page = await http.get(response.headers["location"])
    assert 'class="flash error"' in page.text and problem in page.text
    assert "A dívida NF-1 não foi baixada" in page.text
    assert (await statuses(padaria))["NF-1"] == "open"


async def test_a_debt_in_an_agreement_or_paid_is_refused_with_the_reason(padaria: Site) -> None:
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        agreed = await post_form(http, "NF-3")
        agreed_page = await http.get(agreed.headers["location"])
        paid = await post_form(http, "NF-4")
        paid_page = await http.get(paid.headers["location"])
    assert 'class="flash error"' in agreed_page.text
    assert "A dívida NF-3 não foi baixada: em acordo ativo" in agreed_page.text
    assert "A dívida NF-4 não foi baixada: paga" in paid_page.text
    assert await statuses(padaria) == {"NF-1": "open", "NF-2": "disputed", "NF-3": "in_agreement",
                                       "NF-4": "paid"}


async def test_unknown_debts_and_debtors_are_404(padaria: Site) -> None:
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        unknown = await post_form(http, "NF-404")
        assert unknown.status_code == 404 and "NF-404" in unknown.text
        token = csrf_of((await http.get(AUDIT)).text)
        nobody = await http.post(write_off_url("NF-1", debtor="nobody"),
                                 data={"csrf_token": token, "reason": REASON, "confirmo": "1"})
        assert nobody.status_code == 404
        assert (await http.get("/admin/debtors/nobody/audit")).status_code == 404
    assert (await statuses(padaria))["NF-1"] == "open"


async def test_a_debt_of_another_debtor_is_404(padaria: Site) -> None:
    async with padaria.container.sessions() as session:
        repo = PortfolioRepository(session)
        other = await repo.upsert_debtor("demo", "outra", "Outra Ltda", None, "America/Sao_Paulo", "pt-BR")
        await repo.upsert_debt(other, "NF-outra", "100.00", "BRL", padaria.container.clock.now().date())
        await session.commit()
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        assert (await post_form(http, "NF-outra")).status_code == 404
    assert (await statuses(padaria))["NF-outra"] == "open"


async def test_an_ambiguous_debtor_asks_for_the_creditor(padaria: Site) -> None:
    async with padaria.container.sessions() as session:
        repo = PortfolioRepository(session)
        await repo.upsert_creditor("outro", "Outro Credor Ltda", "11.222.333/0001-81")
        await repo.upsert_debtor("outro", "padaria", "Padaria Sol (outro)", None, "America/Sao_Paulo",
                                 "pt-BR")
        await session.commit()
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        ambiguous = await http.get("/admin/debtors/padaria/audit")
        assert ambiguous.status_code == 409 and "?creditor=ID" in ambiguous.text
        assert "demo, outro" in ambiguous.text
        page = await http.get(AUDIT + "?creditor=demo")
        assert page.status_code == 200 and "NF-1" in page.text
        response = await http.post(write_off_url("NF-1"), data={
            "csrf_token": csrf_of(page.text), "reason": REASON, "confirmo": "1"})
        assert response.status_code == 303
    assert (await statuses(padaria))["NF-1"] == "written_off"


async def test_a_debt_id_with_a_slash_is_written_off(padaria: Site) -> None:
    async with padaria.container.sessions() as session:
        repo = PortfolioRepository(session)
        debtor = await repo.get_debtor("padaria", "demo")
        assert debtor is not None
        await repo.upsert_debt(debtor, "NF/2026/9", "42.00", "BRL", padaria.container.clock.now().date())
        await session.commit()
    async with padaria.signed_in("carla", lang="pt-BR") as http:
        page = await http.get(AUDIT)
        assert 'action="/admin/debtors/padaria/debts/NF/2026/9/write-off?creditor=demo"' in page.text
        assert (await post_form(http, "NF/2026/9")).status_code == 303
    assert (await statuses(padaria))["NF/2026/9"] == "written_off"
