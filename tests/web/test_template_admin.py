"""The template admin: validation (sandbox, variables, injection, lengths, identification,
opt-out, hostile words), versions with author and time, rollback, and the bot using the
newest version at once."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from bot.storage.models import AuditEvent
from tests.web.conftest import Site, csrf_of

INJECTIONS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ creditor_name|attr('__class__') }}",
    "{{ creditor_name['__class__'] }}",
    "{% include 'pt-BR/greet.j2' %}",
    "{% import 'pt-BR/greet.j2' as g %}",
    "{% extends 'pt-BR/greet.j2' %}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ range(999999999)|list }}",
    "{{ 9**9**9 }}",
    "{{ " + "(" * 100 + "1" + ")" * 100 + " }}",
    "{% for a in debts %}" * 20 + "x" + "{% endfor %}" * 20,
    "{% macro m() %}{% endmacro %}{{ m() }}",
    "{{ self.__dict__ }}",
    "{{ config }}",
]


async def save(http: httpx.AsyncClient, name: str, source: str, locale: str = "pt-BR",
               **extra: Any) -> httpx.Response:
    url = f"/admin/templates/{locale}/{name}"
    page = await http.get(url, params={"channel": extra.get("channel", "")} if extra.get("channel") else None)
    return await http.post(url, data={"csrf_token": csrf_of(page.text), "source": source, **extra})


async def preview(http: httpx.AsyncClient, name: str, source: str, **extra: Any) -> dict[str, Any]:
    page = await http.get(f"/admin/templates/pt-BR/{name}")
    response = await http.post("/admin/templates/preview",
                               headers={"X-CSRF-Token": csrf_of(page.text)},
                               json={"name": name, "locale": "pt-BR", "source": source, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_edit_page_shows_the_file_and_its_variables(site: Site) -> None:
    async with site.signed_in("carla") as http:
        listing = await http.get("/admin")
        assert "greet" in listing.text and "handback" in listing.text
        page = await http.get("/admin/templates/pt-BR/greet")
        assert "assistente virtual" in page.text and "has_debt" in page.text


async def test_preview_renders_sample_data(site: Site) -> None:
    async with site.signed_in("carla") as http:
        body = await preview(http, "goodbye", "Até logo, {{ contact_name }}! {{ creditor_name }}")
    assert body["ok"] and body["preview"] == "Até logo, Ana! Distribuidora Exemplo Ltda"
    assert body["warnings"] == []


async def test_preview_warns_of_punctuation_and_sms_length_but_saves(site: Site) -> None:
    crowded = "Até logo,{{ contact_name }}!Obrigado  pela conversa. " + "Seguimos à disposição. " * 20
    async with site.signed_in("carla") as http:
        body = await preview(http, "goodbye", crowded + "{{ creditor_name }}")
        saved = await save(http, "goodbye", crowded + "{{ creditor_name }}")
    assert body["ok"], body["problems"]
    assert {w["code"] for w in body["warnings"]} == {
        "no_space_after_punctuation", "double_space", "sms_segments"}
    assert saved.status_code in (200, 303)


async def test_injection_payloads_are_refused_and_never_run(site: Site) -> None:
    async with site.signed_in("carla") as http:
        for source in INJECTIONS:
            body = await preview(http, "goodbye", source)
            assert not body["ok"] and body["preview"] is None, source
            response = await save(http, "goodbye", source)
            assert response.status_code == 422, source
    assert await site.container.template_admin.versions(_key("goodbye")) == []
    async with site.container.sessions() as session:
        kinds = list(await session.scalars(select(AuditEvent.kind)))
    assert kinds.count("template_refused") == len(INJECTIONS)


async def test_jinja_internals_and_growing_output_are_refused_with_a_clear_message(site: Site) -> None:
    async with site.signed_in("carla") as http:
        response = await save(http, "goodbye", "Tchau {{ self }}")
        assert response.status_code == 422
        assert "name &#39;self&#39;" in response.text or "name 'self'" in response.text
        bomb = "{{ debtor_name" + "|replace('', debtor_name)" * 4 + " }}"
        body = await preview(http, "goodbye", bomb)
        assert [p["code"] for p in body["problems"]] == ["too_large"] and body["preview"] is None
        assert (await save(http, "goodbye", bomb)).status_code == 422
    assert await site.container.template_admin.versions(_key("goodbye")) == []


async def test_undocumented_variables_are_refused(site: Site) -> None:
    async with site.signed_in("carla") as http:
        body = await preview(http, "goodbye", "Tchau {{ debtor_tax_id }}")
    assert not body["ok"] and "debtor_tax_id" in body["problems"][0]["message"]


async def test_syntax_errors_are_refused(site: Site) -> None:
    async with site.signed_in("carla") as http:
        body = await preview(http, "goodbye", "{% if %}")
    assert body["problems"][0]["code"] == "syntax"


HOSTILE = [
    ("Pague hoje ou vamos expor sua empresa, {{ creditor_name }}.", "vamos expor"),
    ("Último aviso antes de medidas. {{ creditor_name }}", "último aviso antes de"),
    ("Seu NOME SUJO na praça. {{ creditor_name }}", "nome sujo"),
    ("Isso pode dar prisao. {{ creditor_name }}", "prisão"),
    ("This may lead to criminal charges. {{ creditor_name }}", "criminal charges"),
]


async def test_hostile_words_are_refused_naming_the_word(site: Site) -> None:
    async with site.signed_in("carla") as http:
        for source, word in HOSTILE:
            response = await save(http, "goodbye", source)
            assert response.status_code == 422
            assert "hostile" in response.text and word in response.text, word


async def test_threats_insults_and_ultimatums_are_refused_and_previewed_alike(site: Site) -> None:
    source = "{{ contact_name }}, pague agora ou vamos processar você, caloteiro. {{ creditor_name }}"
    async with site.signed_in("carla") as http:
        body = await preview(http, "goodbye", source)
        [hostile] = [p["message"] for p in body["problems"] if p["code"] == "hostile"]
        for named in ("pague agora ou", "processar", "caloteiro"):
            assert named in hostile
        response = await save(http, "goodbye", source)
        assert response.status_code == 422
        for named in ("pague agora ou", "processar", "caloteiro"):
            assert named in response.text
        polite = "{{ contact_name }}, vamos processar o seu pagamento assim que chegar. {{ creditor_name }}"
        assert (await preview(http, "goodbye", polite))["ok"]


async def test_cadence_templates_need_identification_opt_out_and_sms_length(site: Site) -> None:
    async with site.signed_in("carla") as http:
        body = await preview(http, "overdue_first", "Olá {{ contact_name }}, há uma fatura vencida.",
                             channel="sms")
        codes = {p["code"] for p in body["problems"]}
        assert {"identification", "opt_out"} <= codes
        long = "{{ creditor_name }}: " + "texto longo " * 60 + " Responda SAIR para sair."
        body = await preview(http, "overdue_first", long, channel="sms")
        assert [p["code"] for p in body["problems"]] == ["length"]
        fine = "{{ creditor_name }}: há uma fatura vencida. Responda SAIR para não receber mais."
        assert (await preview(http, "overdue_first", fine, channel="sms"))["ok"]
        body = await preview(http, "overdue_first", fine, channel="whatsapp")
        assert [p["code"] for p in body["problems"]] == ["content_sid"]
        sid = "HX" + "0" * 32
        response = await save(http, "overdue_first", fine, channel="whatsapp", content_sid=sid)
        assert response.status_code == 303
    versions = await site.container.template_admin.versions(_key("overdue_first", "whatsapp"))
    assert versions[0].content_sid == sid


async def test_save_versions_rollback_and_the_bot_uses_it_at_once(site: Site) -> None:
    renderer = site.container.renderer
    async with site.signed_in("carla") as http:
        assert (await save(http, "clarify", "Versão um, {{ contact_name }}.")).status_code == 303
        assert renderer.render("clarify", "pt-BR", {"creditor_name": "C", "debtor_name": "D",
                                                    "contact_name": "Ana"}) == "Versão um, Ana."
        assert (await save(http, "clarify", "Versão dois.")).status_code == 303
        versions = await site.container.template_admin.versions(_key("clarify"))
        assert [v.version for v in versions] == [2, 1] and versions[0].author == "carla"
        page = await http.get("/admin/templates/pt-BR/clarify")
        assert "Roll back to this" in page.text
        form = {"csrf_token": csrf_of(page.text), "version_id": versions[1].id}
        unconfirmed = await http.post("/admin/templates/pt-BR/clarify/rollback", data=form)
        assert unconfirmed.status_code == 200 and 'id="confirm"' in unconfirmed.text  # asks first
        response = await http.post("/admin/templates/pt-BR/clarify/rollback", data={**form, "confirm": "yes"})
        assert response.status_code == 303
    assert renderer.render("clarify", "pt-BR", {"contact_name": "Bia", "creditor_name": "C",
                                                "debtor_name": "D"}) == "Versão um, Bia."
    versions = await site.container.template_admin.versions(_key("clarify"))
    assert versions[0].version == 3 and versions[0].restored_from == 1
    # The scripted dialogue replies with "clarify": the next bot message uses version one.
    body = {"creditor": "demo", "debtors": [{
        "external_id": "zeca", "name": "Bar do Zeca", "tax_id": "11.444.777/0001-61",
        "contacts": [{"name": "Zeca", "channel": "web", "address": "zeca@bar.example"}], "debts": []}]}
    async with site.client() as http:
        await http.post("/api/v1/portfolio", json=body, headers={"Authorization": "Bearer test-admin-token"})
        response = await http.post("/channels/web/messages",
                                   json={"sender": "zeca@bar.example", "text": "hmm"},
                                   headers={"Authorization": "Bearer test-admin-token"})
    assert response.json()["replies"][0]["text"] == "Versão um, Z."
    async with site.container.sessions() as session:
        kinds = list(await session.scalars(select(AuditEvent.kind)))
    assert kinds.count("template_saved") == 2 and "template_rolled_back" in kinds


async def test_a_restart_loads_the_stored_versions(site: Site) -> None:
    async with site.signed_in("carla") as http:
        assert (await save(http, "goodbye", "Adeus, {{ contact_name }}.", locale="en")).status_code == 303
    site.container.renderer.use_stored({})
    await site.container.template_admin.load_into_renderer()
    assert site.container.renderer.render(
        "goodbye", "en", {"contact_name": "Al", "creditor_name": "C", "debtor_name": "D"}) == "Adeus, Al."


def _key(name: str, channel: str = "") -> Any:
    from bot.services.template_admin import TemplateKey
    return TemplateKey(name, "pt-BR", channel)
