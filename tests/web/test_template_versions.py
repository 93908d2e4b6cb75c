"""Versions of a template: a line diff between any two (the shipped text is version 0), a
rollback that shows what will change before doing it, and "restore the original text" as soon
as one version is stored, in both languages."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import select

from bot.services.template_admin import TemplateKey
from bot.storage.models import AuditEvent
from tests.conftest import ROOT
from tests.web.conftest import Site, csrf_of

GOODBYE = (ROOT / "templates" / "pt-BR" / "goodbye.j2").read_text(encoding="utf-8")
KEY = TemplateKey("goodbye", "pt-BR")
URL = "/admin/templates/pt-BR/goodbye"
VARIABLES = {"contact_name": "Ana", "creditor_name": "C", "debtor_name": "D"}


async def save(http: httpx.AsyncClient, source: str) -> httpx.Response:
    page = await http.get(URL)
    return await http.post(URL, data={"csrf_token": csrf_of(page.text), "source": source})


async def confirm(http: httpx.AsyncClient, path: str, **fields: Any) -> httpx.Response:
    page = await http.get(URL)
    return await http.post(f"{URL}/{path}", data={"csrf_token": csrf_of(page.text), **fields})


def diff_rows(html: str) -> list[tuple[str, str]]:
    """(kind, text) of each line of the diff table."""
    return [(kind, text) for kind, text in re.findall(
        r'<tr class="\w+" data-kind="(\w+)">.*?<td class="t"><code>(.*?)</code></td>', html, re.S)]


async def kinds(site: Site) -> list[str]:
    async with site.container.sessions() as session:
        return list(await session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


async def test_a_diff_between_any_two_versions_marks_lines_by_sign_and_word_and_escapes(site: Site) -> None:
    async with site.signed_in("carla", lang="pt-BR") as http:
        assert (await save(http, "Até logo, {{ contact_name }}.\nLinha igual.")).status_code == 303
        assert (await save(http, "Tchau <script>alert(1)</script>, {{ contact_name }}.\nLinha igual."
                           )).status_code == 303
        page = await http.get(f"{URL}/diff?from=1&to=2")
        assert page.status_code == 200
        assert diff_rows(page.text) == [
            ("removed", "Até logo, {{ contact_name }}."),
            ("added", "Tchau &lt;script&gt;alert(1)&lt;/script&gt;, {{ contact_name }}."),
            ("same", "Linha igual.")]
        assert "<script>alert" not in page.text
        assert '<span aria-hidden="true">+</span><span class="visually-hidden">incluída</span>' in page.text
        assert '<span aria-hidden="true">−</span><span class="visually-hidden">removida</span>' in page.text
        assert "1 linha incluída, 1 linha removida" in page.text
        assert "Comparação: versão 1 → versão 2" in page.text
        original = await http.get(f"{URL}/diff?from=0&to=1")
        assert ("removed", GOODBYE.splitlines()[0]) in diff_rows(original.text)
        assert "Comparação: o texto original → versão 1" in original.text
        default = await http.get(f"{URL}/diff")  # the newest version against the one before
        assert diff_rows(default.text) == diff_rows(page.text)
        same = await http.get(f"{URL}/diff?from=2&to=2")
        assert "Nenhuma diferença: os dois textos são iguais." in same.text
        missing = await http.get(f"{URL}/diff?from=1&to=9")
        assert missing.status_code == 404 and "esta versão do modelo não existe" in missing.text
        assert (await http.get(f"{URL}/diff?from=-1")).status_code == 422
    async with site.signed_in("carla", lang="en") as http:
        page = await http.get(f"{URL}/diff?from=0&to=2")
        assert "From the original text to version 2" in page.text and ">added</span>" in page.text
    async with site.signed_in("alice", lang="en") as http:
        assert (await http.get(f"{URL}/diff")).status_code == 403


async def test_rollback_shows_what_will_change_and_asks_before_doing_it(site: Site) -> None:
    async with site.signed_in("carla", lang="pt-BR") as http:
        await save(http, "Primeira, {{ contact_name }}.")
        await save(http, "Segunda, {{ contact_name }}.")
        first = (await site.container.template_admin.versions(KEY))[1]
        edit = (await http.get(URL)).text
        link = f'{URL}/rollback?version_id={first.id}'
        assert f'href="{link}" class="rollback">' in edit
        page = await http.get(link)
        assert page.status_code == 200 and "Voltar para a versão 1" in page.text
        assert diff_rows(page.text) == [("removed", "Segunda, {{ contact_name }}."),
                                        ("added", "Primeira, {{ contact_name }}.")]
        assert 'name="confirm" value="yes"' in page.text and "Sim, voltar para a versão 1" in page.text
        # Posting without the confirmation (a stale form, a script) only shows the page again.
        again = await confirm(http, "rollback", version_id=first.id)
        assert again.status_code == 200 and "Sim, voltar para a versão 1" in again.text
        assert len(await site.container.template_admin.versions(KEY)) == 2
        done = await confirm(http, "rollback", version_id=first.id, confirm="yes")
        assert done.status_code == 303 and "msg=" in done.headers["location"]
        assert "Restaurado como versão 3." in (await http.get(done.headers["location"])).text
        assert (await confirm(http, "rollback", version_id=99999, confirm="yes")).status_code == 404
        assert (await http.get(f"{URL}/rollback?version_id=99999")).status_code == 404
    async with site.signed_in("carla", lang="en") as http:
        page = await http.get(link)
        assert "Roll back to version 1" in page.text and "Yes, roll back to version 1" in page.text
        assert "From the version in use to version 1" in page.text
    versions = await site.container.template_admin.versions(KEY)
    assert versions[0].version == 3 and versions[0].restored_from == 1
    assert site.container.renderer.render("goodbye", "pt-BR", VARIABLES) == "Primeira, Ana."
    assert (await kinds(site)).count("template_rolled_back") == 1


async def test_the_original_text_can_be_restored_once_one_version_is_stored(site: Site) -> None:
    async with site.signed_in("carla", lang="pt-BR") as http:
        assert "Restaurar o texto original" not in (await http.get(URL)).text  # the file is in use
        refused = await http.get(f"{URL}/restore")
        assert refused.status_code == 422 and "o texto original já está em uso" in refused.text
        await save(http, "Só uma versão, {{ contact_name }}.")
        edit = (await http.get(URL)).text
        assert f'href="{URL}/restore" id="restore">Restaurar o texto original</a>' in edit
        page = await http.get(f"{URL}/restore")
        assert page.status_code == 200 and "Sim, restaurar o texto original" in page.text
        assert ("removed", "Só uma versão, {{ contact_name }}.") in diff_rows(page.text)
        assert ("added", GOODBYE.splitlines()[0]) in diff_rows(page.text)
        assert len(await site.container.template_admin.versions(KEY)) == 1
        done = await confirm(http, "restore", confirm="yes")
        assert done.status_code == 303
        shown = (await http.get(done.headers["location"])).text
        assert "O texto original voltou a ser usado, gravado como versão 2." in shown
        assert "(= texto original)" in shown
        missing = await http.get("/admin/templates/pt-BR/brand_new_step/restore")
        assert missing.status_code == 404 and "este modelo não tem texto original" in missing.text
    versions = await site.container.template_admin.versions(KEY)
    assert [(v.version, v.restored_from) for v in versions] == [(2, 0), (1, None)]
    assert versions[0].source == GOODBYE.replace("\r\n", "\n")
    rendered = site.container.renderer.render("goodbye", "pt-BR", VARIABLES)
    assert rendered.startswith("Obrigado pelo contato, Ana!")
    async with site.container.sessions() as session:
        last = (await session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()))).first()
    assert last is not None and last.kind == "template_rolled_back"
    assert last.data["restored_from"] == 0 and last.data["version"] == 2
    async with site.signed_in("carla", lang="en") as http:
        page = await http.get(f"{URL}/restore")
        assert "Restore the original text" in page.text and "Yes, restore the original text" in page.text


SYNTAX_ERRORS = [  # source, line, Portuguese explanation, English explanation
    ("Olá {{ contact_name }}.\nTchau {{ contact_name", 2,
     "o modelo termina antes de fechar a expressão: falta “}}”",
     "the template ends before the expression is closed: add “}}”"),
    ("Olá\n\n{{ contact_name creditor_name }}", 3,
     "esperava o fim de uma expressão “{{ … }}”, encontrou “creditor_name”",
     "expected the end of an expression “{{ … }}”, found “creditor_name”"),
    ("{% if contact_name %}\nOlá", 2,
     "o modelo termina com o bloco “{% if %}” aberto: feche-o com “{% endif %}”",
     "the template ends with the block “{% if %}” still open: close it with “{% endif %}”"),
    ("Olá\n{% foo %}", 2, "comando desconhecido “{% foo %}”", "unknown command “{% foo %}”"),
    ("{% for d in debts %}\n{{ d }}\n{% endif %}", 3,
     "“{% endif %}” não cabe aqui: antes é preciso fechar o bloco “{% for %}” com “{% endfor %}”",
     "“{% endif %}” does not fit here: the block “{% for %}” must be closed first with “{% endfor %}”"),
    ("{{ }}", 1, "uma expressão vazia “{{ }}”", "an empty expression “{{ }}”"),
]


async def test_syntax_errors_read_in_the_readers_language_pointing_at_the_line(site: Site) -> None:
    for lang, column in (("pt-BR", 2), ("en", 3)):
        async with site.signed_in("carla", lang=lang) as http:
            for case in SYNTAX_ERRORS:
                source, line, text = case[0], case[1], case[column]
                response = await save(http, source)
                assert response.status_code == 422, source
                html = response.text.replace("&#34;", '"').replace("&#39;", "'")
                label = "Linha" if lang == "pt-BR" else "Line"
                assert f"<strong>{label} {line}:</strong> {text}" in html, (lang, source)
                shown_line = source.splitlines()[line - 1].replace("<", "&lt;")
                assert f"<mark>{shown_line}</mark>" in html
                page = await http.get(URL)
                body = (await http.post("/admin/templates/preview",
                                        headers={"X-CSRF-Token": csrf_of(page.text)},
                                        json={"name": "goodbye", "locale": "pt-BR", "source": source})).json()
                [problem] = body["problems"]
                assert (problem["code"], problem["line"], problem["text"]) == ("syntax", line, text)
                assert problem["line_text"] == source.splitlines()[line - 1]
    assert await site.container.template_admin.versions(KEY) == []


async def test_an_unknown_jinja_message_falls_back_to_a_translated_heading_and_the_raw_words() -> None:
    from bot.rendering.template_rules import TemplateProblem
    from bot.staff.i18n import StaffLocale
    from bot.staff.labels.template_problems import explain

    odd = TemplateProblem("syntax", "does not compile: something new (line 1)", 1, "something new")
    assert explain(odd, StaffLocale("pt-BR").gettext) == "não compila: something new"
    render = TemplateProblem("render", "fails with sample data: TypeError: boom")
    assert explain(render, StaffLocale("pt-BR").gettext) == "Falha com os dados de exemplo: TypeError: boom"


async def test_the_checkers_problems_read_in_portuguese(site: Site) -> None:
    async with site.signed_in("carla", lang="pt-BR") as http:
        page = await http.get("/admin/templates/pt-BR/overdue_first?channel=sms")

        async def problems(source: str, channel: str = "sms", **extra: str) -> dict[str, str]:
            body = (await http.post("/admin/templates/preview", headers={"X-CSRF-Token": csrf_of(page.text)},
                                    json={"name": "overdue_first", "locale": "pt-BR", "channel": channel,
                                          "source": source, **extra})).json()
            return {p["code"]: p["text"] for p in body["problems"]}

        bare = await problems("Olá {{ contact_name }}, há uma fatura vencida.")
        assert bare["identification"] == "precisa identificar o credor ({{ creditor_name }})"
        assert bare["opt_out"].startswith("precisa de uma linha de descadastro (por exemplo “Responda SAIR")
        long = await problems("{{ creditor_name }}: " + "texto longo " * 60 + " Responda SAIR para sair.")
        assert re.fullmatch(r"\d+ caracteres com os dados de exemplo; o SMS permite 480", long["length"])
        hostile = await problems("{{ creditor_name }}: vamos expor sua empresa. Responda SAIR.")
        assert hostile["hostile"].startswith("linguagem hostil ou ameaçadora (CDC art. 42): ")
        fine = "{{ creditor_name }}: há uma fatura vencida. Responda SAIR para não receber mais."
        sid = await problems(fine, "whatsapp")
        assert sid["content_sid"].startswith("um modelo de WhatsApp que o bot envia primeiro precisa")
        bad_sid = await problems(fine, "whatsapp", content_sid="HX1")
        assert bad_sid["content_sid"] == "um Content SID da Twilio é HX seguido de 32 dígitos hexadecimais"
        unknown = await problems("{{ creditor_name }} {{ debtor_tax_id }} Responda SAIR.")
        assert unknown["unknown_variable"].startswith(
            "variável(is) desconhecida(s) debtor_tax_id; este modelo")
        unsafe = await problems("{{ creditor_name|attr('x') }} Responda SAIR.")
        assert unsafe["unsafe"] == "não permitido num modelo de mensagem: filter 'attr'"
        where = await save(http, "Olá, {{ contact_name }}.\nSeu CNPJ: {{ debtor_tax_id }}.")
        assert where.status_code == 422
        assert "<strong>Linha 2:</strong> variável(is) desconhecida(s) debtor_tax_id" in where.text
        assert "<mark>Seu CNPJ: {{ debtor_tax_id }}.</mark>" in where.text
        saved = await http.post("/admin/templates/pt-BR/overdue_first", data={
            "csrf_token": csrf_of(page.text), "source": "Olá.", "channel": "sms"})
        assert saved.status_code == 422 and "precisa identificar o credor" in saved.text


async def test_concurrent_saves_and_restores_each_get_their_own_version(site: Site) -> None:
    import asyncio

    from bot.services.staff_accounts import StaffIdentity

    admin = site.container.template_admin
    staff = StaffIdentity(user_id=1, name="carla", role="admin", csrf_token="t")
    await admin.save(staff, KEY, "Primeira, {{ contact_name }}.")
    saves = [admin.save(staff, KEY, f"Tchau {i}, {{{{ contact_name }}}}.") for i in range(5)]
    results = await asyncio.gather(*saves, admin.restore_shipped(staff, KEY))
    assert sorted(version for _, version in results) == [2, 3, 4, 5, 6, 7]
    versions = await admin.versions(KEY)
    assert [v.version for v in versions] == [7, 6, 5, 4, 3, 2, 1]
    assert [v.restored_from for v in versions].count(0) == 1
    assert (await kinds(site)).count("template_saved") == 6
    assert (await kinds(site)).count("template_rolled_back") == 1


async def test_the_previews_warnings_read_in_portuguese(site: Site) -> None:
    crowded = "Até logo,{{ contact_name }}!Obrigado  pela conversa. " + "Seguimos à disposição. " * 20
    async with site.signed_in("carla", lang="pt-BR") as http:
        page = await http.get(URL)
        body = (await http.post("/admin/templates/preview", headers={"X-CSRF-Token": csrf_of(page.text)},
                                json={"name": "goodbye", "locale": "pt-BR",
                                      "source": crowded + "{{ creditor_name }}"})).json()
    texts = {w["code"]: w["text"] for w in body["warnings"]}
    assert texts["no_space_after_punctuation"].startswith(
        "falta um espaço ou uma quebra de linha depois da pontuação: “")
    assert texts["double_space"].startswith("dois espaços seguidos: “")
    segments = r"\d+ segmentos de SMS \(GSM-7\) com os dados de exemplo; o SMS envia 3 e corta o resto"
    assert re.fullmatch(segments, texts["sms_segments"]), texts["sms_segments"]
