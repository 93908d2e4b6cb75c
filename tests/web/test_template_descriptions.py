"""The template list reads as work to do: every shipped template has a description and the
situation it is sent in (in both languages), and the list is searched and filtered by the
server (name or description, language, channel, situation)."""

from __future__ import annotations

import re

import pytest

from bot.staff.i18n import StaffLocale
from bot.staff.labels.templates import SITUATIONS, TEMPLATES
from tests.conftest import ROOT
from tests.web.conftest import Site

SHIPPED = sorted({path.stem for path in (ROOT / "templates").glob("*/*.j2")})


def test_the_shipped_templates_are_found() -> None:
    assert len(SHIPPED) > 60 and {"greet", "overdue_first", "email_subject", "button_accept"} <= set(SHIPPED)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_template_has_a_description_and_a_situation_in_both_languages(name: str) -> None:
    about = TEMPLATES.get(name)
    assert about is not None, f"describe {name!r} in bot/staff/labels/templates.py"
    assert about.situation in SITUATIONS
    pt, en = StaffLocale("pt-BR"), StaffLocale("en")
    assert pt.gettext(about.description) != about.description, f"translate the description of {name!r}"
    assert en.gettext(about.description) == about.description
    assert pt.gettext(SITUATIONS[about.situation]) != SITUATIONS[about.situation]


def test_no_description_of_a_template_that_is_not_shipped() -> None:
    assert sorted(set(TEMPLATES) - set(SHIPPED)) == []


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-name="([a-z0-9_]+)"', html)


async def test_the_list_shows_name_description_situation_languages_and_channels(site: Site) -> None:
    async with site.signed_in("carla", lang="pt-BR") as http:
        page = (await http.get("/admin")).text
    assert rows(page) == SHIPPED
    greet = page[page.index('data-name="greet"'):]
    greet = greet[:greet.index("</tr>")]
    assert "Cumprimenta o devedor" in greet and "Resposta do bot" in greet
    assert "pt-BR · todos os canais" in greet and "en · todos os canais" in greet
    assert "texto original" in greet
    subject = page[page.index('data-name="email_subject"'):]
    assert "Parte de todo e-mail" in subject[:subject.index("</tr>")] and "só por E-mail" in subject[:800]
    assert f"{len(SHIPPED)} modelos" in page


async def test_the_search_matches_the_name_or_the_description_in_the_readers_language(site: Site) -> None:
    async with site.signed_in("carla", lang="pt-BR") as http:
        assert rows((await http.get("/admin?q=vencimento")).text) == sorted(
            n for n in SHIPPED if "vencimento" in StaffLocale("pt-BR").gettext(TEMPLATES[n].description)
            or "vencimento" in n)
        assert "reminder_upcoming" in rows((await http.get("/admin?q=VENCIMENTO")).text)
        buttons = [n for n in SHIPPED if n.startswith("button_")]
        assert rows((await http.get("/admin?q=button_")).text) == buttons
        assert rows((await http.get("/admin?q=botao")).text) == buttons  # "Botão", accents ignored
        nothing = (await http.get("/admin?q=zzz-nada")).text
        assert rows(nothing) == [] and "Nenhum modelo atende a esses filtros." in nothing
    async with site.signed_in("carla", lang="en") as http:
        found = rows((await http.get("/admin?q=due date")).text)
        assert {"agreement_created", "reminder_upcoming", "overdue_first"} <= set(found)
        assert "greet" not in found


async def test_filters_by_situation_language_and_channel(site: Site) -> None:
    cadence = sorted(n for n, a in TEMPLATES.items() if a.situation == "cadence")
    async with site.signed_in("carla", lang="en") as http:
        assert rows((await http.get("/admin?situation=cadence")).text) == cadence
        by_email = rows((await http.get("/admin?channel=email")).text)
        assert {"email_footer", "email_subject", "greet"} <= set(by_email)
        sms = rows((await http.get("/admin?channel=sms")).text)
        assert "email_subject" not in sms and "overdue_first" in sms
        english = (await http.get("/admin?locale=en&situation=button")).text
        assert "en · all channels" in english and "pt-BR · all channels" not in english
        # A channel variant shows under its channel only.
        await site.container.template_admin.save(_staff(site), _key("goodbye", "whatsapp"),
                                                 "Até logo, {{ contact_name }}.")
        whatsapp = (await http.get("/admin?channel=whatsapp&q=goodbye")).text
        assert "pt-BR · WhatsApp" in whatsapp and "version 1" in whatsapp
        assert "pt-BR · WhatsApp" not in (await http.get("/admin?channel=sms&q=goodbye")).text
        for bad in ("locale=fr", "channel=fax", "situation=party", "q=" + "x" * 201):
            refused = await http.get(f"/admin?{bad}")
            assert refused.status_code == 422, bad
    async with site.signed_in("carla", lang="pt-BR") as http:
        refused = await http.get("/admin?situation=party")
        assert refused.status_code == 422 and "situação desconhecida" in refused.text


def _key(name: str, channel: str = "") -> object:
    from bot.services.template_admin import TemplateKey
    return TemplateKey(name, "pt-BR", channel)


def _staff(site: Site) -> object:
    from bot.services.staff_accounts import StaffIdentity
    return StaffIdentity(user_id=1, name="carla", role="admin", csrf_token="t")
