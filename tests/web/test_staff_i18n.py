"""The staff pages speak the staff's language: every page in pt-BR (the default) and in English
(the header's switch), no English left on a Portuguese page, the catalogs complete and up to
date, Brazilian formats, times in the creditor's zone, human labels for every code, and one
header whose links follow the role."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.dialogue.names import Intent
from bot.services.audit_kinds import AuditKind
from bot.staff.i18n import STAFF_LOCALES, StaffLocale, catalog_path, translations
from bot.staff.labels import LABELS
from bot.staff.labels.statuses import STATUSES
from bot.storage import models as db
from bot.storage.claim_models import ClaimStatus
from bot.storage.payment_models import PromiseStatus
from bot.storage.staff_models import StaffRole
from tests.conftest import ROOT
from tests.support.agent_console import open_claim, post
from tests.web.conftest import Site, csrf_of

# Words of the English pages that must not remain on a Portuguese one (the check below also
# compares the page against every English message id of the catalog).
ENGLISH_UI_WORDS = ("Queue", "Templates", "Policies", "Results", "Audit", "Sign out", "Sign in",
                    "Balance", "Debtor", "Waiting since", "Take this conversation", "Hand back",
                    "Payment claims", "History", "Actions", "Offers", "Agreements", "Debts",
                    "Amount", "Status", "Reason", "UTC", "agents", "Acordo · agents")


class VisibleText(HTMLParser):
    """The text a reader sees (and hears: alt, aria-label, placeholder, title), without data
    shown verbatim (<pre>, <textarea>, <code>: policy files, template sources) and scripts."""

    SKIP = {"script", "style", "pre", "textarea", "code"}
    SPOKEN = ("aria-label", "placeholder", "title", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self._skipping += 1
        self.parts += [value for name, value in attrs if name in self.SPOKEN and value]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def catalog(locale: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) of every entry of the locale's .po (plurals: each form)."""
    with catalog_path(locale).open("rb") as po:
        entries = read_po(po)
    pairs = []
    for message in entries:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(i, s) for i, s in zip(ids, strings * len(ids), strict=False)]
    return pairs


def english_leftovers(text: str) -> list[str]:
    """English message ids (or the literal parts of one, around its %(placeholders)s) that a
    Portuguese page still shows; ids whose translation is the same word (WhatsApp, SMS) do not
    count."""
    found = []
    for msgid, msgstr in catalog("pt-BR"):
        if msgid == msgstr or msgid.replace("%%", "%") == msgstr.replace("%%", "%"):
            continue
        literal = max(re.split(r"%\(\w+\)s", msgid.replace("%%", "%")), key=len).strip(" .:,")
        if len(literal) < 3:
            continue
        if re.search(rf"(?<![\w/-]){re.escape(literal)}(?![\w/-])", text):
            found.append(literal)
    found += [w for w in ENGLISH_UI_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
    return sorted(set(found))


def staff_pages(public_id: str, claim_id: int, admin: bool) -> Iterator[str]:
    yield from ("/agent", f"/agent/c/{public_id}", "/agent/claims", f"/agent/claims/{claim_id}")
    if admin:
        yield from ("/admin", "/admin/templates/pt-BR/overdue_first", "/admin/policies",
                    "/admin/results?start=01/11/2026&end=30/11/2026", "/admin/audit",
                    "/admin/debtors/deb-ana@padaria.example/audit?creditor=demo")
    else:
        yield "/admin"  # the 403 page


async def test_every_staff_page_reads_in_portuguese_by_default_and_in_english_by_the_switch(
        site: Site) -> None:
    claim_id = await open_claim(site)
    public_id = (await site.container.agent_desk.queue())[0].public_id
    for name, admin in (("alice", False), ("carla", True)):
        async with site.signed_in(name, lang="pt-BR") as http:
            await post(http, public_id, "note", text="ligar amanhã cedo")
            for path in staff_pages(public_id, claim_id, admin):
                page = await http.get(path)
                assert page.status_code == (403 if path == "/admin" and not admin else 200), path
                assert '<html lang="pt-BR">' in page.text, path
                assert english_leftovers(visible_text(page.text)) == [], path
            english = await http.get(f"/staff/lang?to=en&next=/agent/c/{public_id}")
            assert english.status_code == 303 and english.headers["location"] == f"/agent/c/{public_id}"
            for path in staff_pages(public_id, claim_id, admin):
                page = await http.get(path)
                assert '<html lang="en">' in page.text, path
                assert "Fila" not in visible_text(page.text) and "Queue" in page.text, path
    async with site.client(lang="") as anonymous:
        login = await anonymous.get("/login")
        assert '<html lang="pt-BR">' in login.text and ">Entrar<" in login.text
        assert english_leftovers(visible_text(login.text)) == []


async def test_the_switch_accepts_only_known_languages_and_local_targets(site: Site) -> None:
    async with site.client(lang="") as http:
        assert (await http.get("/staff/lang?to=fr")).status_code == 422
        away = await http.get("/staff/lang?to=en&next=//evil.example/")
        assert away.status_code == 303 and away.headers["location"] == "/agent"
        assert "acordo_staff_lang=en" in away.headers["set-cookie"]
        assert "HttpOnly" in away.headers["set-cookie"] and "SameSite=strict" in away.headers["set-cookie"]


def test_the_catalogs_are_complete_with_no_fuzzy_entry() -> None:
    for locale in ("pt-BR", "en"):
        with catalog_path(locale).open("rb") as po:
            entries = read_po(po)
        assert [m.id for m in entries if m.id and m.fuzzy] == [], locale
    untranslated = [msgid for msgid, msgstr in catalog("pt-BR") if not msgstr.strip()]
    assert untranslated == []
    assert translations("pt-BR").gettext("Hand back to the bot") == "Devolver ao bot"
    assert translations("en").gettext("Hand back to the bot") == "Hand back to the bot"


def test_the_catalogs_hold_every_string_of_the_pages(tmp_path: Path) -> None:
    """``make messages`` has been run: extracting again finds no string the .po lacks."""
    pot = tmp_path / "messages.pot"
    done = subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F", "babel.cfg",
                           "-k", "N_", "--no-location", "-o", str(pot), "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    with pot.open("rb") as fresh:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fresh) if m.id}
    for locale in STAFF_LOCALES:
        with catalog_path(locale).open("rb") as po:
            have = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(po) if m.id}
        assert sorted(wanted - have) == [], f"run `make messages` and translate ({locale})"


@pytest.mark.parametrize(("kind", "codes"), [
    ("audit", list(AuditKind) + ["message_in", "message_out", "offer", "agreement", "payment", "promise"]),
    ("reason", list(Intent) + ["balance_above", "proposal_not_understood", "fallbacks",
                               "dialogue_unavailable", "hardship_keyword", "hardship_intent",
                               "max_rounds", "limits_exhausted"]),
    ("offer_kind", list(db.OfferKind)),
    ("status.debt", list(db.DebtStatus)), ("status.offer", list(db.OfferStatus)),
    ("status.agreement", list(db.AgreementStatus)), ("status.installment", list(db.InstallmentStatus)),
    ("status.promise", list(PromiseStatus)), ("status.claim", list(ClaimStatus)),
    ("status.conversation", list(db.ConversationState)),
    ("author", list(db.Author) + list(db.CreatedBy)), ("channel", list(db.Channel) + ["email"]),
    ("role", list(StaffRole)),
])
def test_every_code_has_a_human_label_in_both_languages(kind: str, codes: list[str]) -> None:
    portuguese, english = StaffLocale("pt-BR"), StaffLocale("en")
    for code in codes:
        assert str(code) in LABELS[kind], (kind, code)
        label = portuguese.label(code, kind)
        assert label and "_" not in label and english.label(code, kind) == LABELS[kind][str(code)]
    assert set(STATUSES) == {k.removeprefix("status.") for k in LABELS if k.startswith("status.")}


def test_labels_and_offers_read_as_brazilian_collections_staff_say_them() -> None:
    pt, en = StaffLocale("pt-BR"), StaffLocale("en")
    assert pt.label("request_human", "reason") == "Pediu atendente"
    assert pt.label("superseded", "status.offer") == "Substituída por outra proposta"
    assert pt.label("in_agreement", "status.debt") == "Em acordo"
    assert pt.label("offer_made", "audit") == "Proposta feita"
    assert pt.label("some_new_code", "reason") == "some_new_code"  # shown, never hidden
    assert pt.offer("full_payment", 1, Decimal("2.50")) == "À vista com 2,5% de desconto"
    assert en.offer("full_payment", 1, Decimal("2.50")) == "Pay in full with a 2.5% discount"
    assert pt.offer("installments", 6, Decimal("0")) == "6 pagamentos"
    assert pt.offer("installments", 1, Decimal("0")) == "1 pagamento"
    assert pt.offer("installments", 3, Decimal("5")) == "3 pagamentos com 5% de desconto"
    assert pt.money(Decimal("12627.00")) == "R$ 12.627,00" and en.money(Decimal("12627.00")) == "R$12,627.00"


async def test_times_show_the_creditors_zone_and_money_brazilian_formats(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice", lang="pt-BR") as http:
        queue = (await http.get("/agent")).text
        conversation = (await http.get(f"/agent/c/{public_id}")).text
    # NOW is 26/11/2026 13:00 UTC: 10:00 in São Paulo (demo policy), shown with its zone.
    assert "26/11/2026 10:00 BRT" in queue
    assert re.search(r'<td class="num money">R\$ 6\.\d{3},\d{2}</td>', queue)  # 6000.00 plus charges
    assert "26/11/2026 10:00 BRT" in conversation and "06/11/2026" in conversation
    assert 'data-zone="America/Sao_Paulo"' in conversation and "UTC" not in visible_text(queue)
    async with site.signed_in("alice", lang="en") as http:
        queue = (await http.get("/agent")).text
    assert "Nov 26, 2026, 10:00 BRT" in queue
    assert re.search(r'<td class="num money">R\$6,\d{3}\.\d{2}</td>', queue)


async def test_dates_are_typed_dd_mm_yyyy_or_iso_and_garbage_is_refused(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("carla", lang="pt-BR") as http:
        results = await http.get("/admin/results?start=01/11/2026&end=30/11/2026")
        assert results.status_code == 200 and 'value="01/11/2026"' in results.text
        assert 'placeholder="dd/mm/aaaa"' in results.text
        assert (await http.get("/admin/results?start=2026-11-01&end=2026-11-30")).status_code == 200
        for garbage in ("31/02/2026", "amanhã", "2026/11/01", "1e9"):
            refused = await http.get(f"/admin/results?start={garbage}")
            assert refused.status_code == 422 and "dd/mm/aaaa" in refused.text, garbage
        csv = await http.get("/admin/results.csv?table=summary&start=01/11/2026&end=30/11/2026")
        assert csv.status_code == 200
        await post(http, public_id, "take")
        page = (await http.get(f"/agent/c/{public_id}")).text
        assert 'name="when" required inputmode="numeric"' in page and 'placeholder="dd/mm/aaaa"' in page
        bad = await post(http, public_id, "promise", when="sexta")
        shown = await http.get(bad.headers["location"])
        assert "A data da promessa deve ser dd/mm/aaaa." in shown.text
        good = await post(http, public_id, "promise", when="04/12/2026")
        assert "msg=" in good.headers["location"]
        assert "Promessa registrada." in (await http.get(good.headers["location"])).text
        assert 'data-kind="promise">Promessa de pagamento' in (await http.get(
            "/admin/debtors/deb-ana@padaria.example/audit")).text


async def test_the_header_shows_links_by_role_and_the_conversation_links_to_its_audit(site: Site) -> None:
    public_id = await site.waiting_conversation()
    admin_links = ('href="/admin"', 'href="/admin/policies"', 'href="/admin/results"', 'href="/admin/audit"')
    async with site.signed_in("alice", lang="pt-BR") as http:
        page = (await http.get(f"/agent/c/{public_id}")).text
        assert "Acordo · agents" not in page and ">Fila<" in page and ">Comprovantes<" in page
        assert not any(link in page for link in admin_links) and 'id="audit-link"' not in page
        assert '<a href="/agent" aria-current="page">Fila</a>' in page
    async with site.signed_in("carla", lang="pt-BR") as http:
        page = (await http.get(f"/agent/c/{public_id}")).text
        assert all(link in page for link in admin_links)
        for word in (">Modelos<", ">Políticas<", ">Resultados<", ">Auditoria<"):
            assert word in page
        audit = 'href="/admin/debtors/deb-ana%40padaria.example/audit?creditor=demo" id="audit-link"'
        assert audit in page
        found = await http.get("/admin/audit?debtor=deb-ana@padaria.example&creditor=demo")
        assert found.status_code == 303
        assert (await http.get(found.headers["location"])).status_code == 200


async def test_flash_messages_follow_the_reader_language(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice", lang="pt-BR") as http:
        taken = await post(http, public_id, "take")
        assert "Assumida." in (await http.get(taken.headers["location"])).text
        http.cookies.set("acordo_staff_lang", "en")
        noted = await post(http, public_id, "note", text="ok")
        assert "Note added." in (await http.get(noted.headers["location"])).text
    async with site.client(lang="pt-BR") as http:
        form = await http.get("/login")
        wrong = await http.post("/login", data={"name": "alice", "password": "nope",
                                                "csrf_token": csrf_of(form.text)})
        assert wrong.status_code == 401 and "Nome ou senha incorretos." in wrong.text


def test_impossible_figures_are_flagged_not_shown_silently() -> None:
    from bot.staff.i18n import render_page
    from bot.staff.results_dashboard import shown

    pt = StaffLocale("pt-BR")
    assert shown("recovery_rate", Decimal("0.3659"), pt).text == "36,6%"
    assert shown("recovery_rate", Decimal("0.366"), pt).odd == ""
    assert shown("recovery_rate", Decimal("1.25"), pt).odd == "impossível: taxa fora de 0–100%"
    assert shown("recovered", Decimal("-10.00"), pt).odd == "impossível: negativo"
    assert shown("recovered", Decimal("-10.00"), pt).text == "-R$ 10,00"
    assert shown("contacts", -1, pt).odd and shown("contacts", 3, pt).odd == ""
    html = render_page("pt-BR", "results.html", {
        "here": "/admin/results", "staff": None, "creditor": "demo", "creditors": ["demo"],
        "start": datetime(2026, 11, 1, tzinfo=UTC).date(), "end": datetime(2026, 11, 30, tzinfo=UTC).date(),
        "cards": [("Recuperado", shown("recovered", Decimal("-10.00"), pt))], "charts": [], "tables": [],
        "shown_day": lambda d: d.strftime("%d/%m/%Y")})
    assert 'class="value odd" title="impossível: negativo"' in html
    assert '<div class="odd-why muted">impossível: negativo</div>' in html


async def test_an_unknown_language_cookie_falls_back_to_portuguese(site: Site) -> None:
    async with site.client(lang="xx") as http:
        assert '<html lang="pt-BR">' in (await http.get("/login")).text


async def test_concurrent_readers_in_two_languages_each_get_their_own(site: Site) -> None:
    """One Jinja environment per language: interleaved renders never mix the translations."""
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice", lang="pt-BR") as pt, site.signed_in("bruno", lang="en") as en:
        pages = await asyncio.gather(*[(pt if i % 2 else en).get(f"/agent/c/{public_id}") for i in range(20)])
    for i, page in enumerate(pages):
        words = ("Histórico", "History") if i % 2 else ("History", "Histórico")
        assert words[0] in page.text and words[1] not in page.text
    async with site.signed_in("alice", lang="pt-BR") as http:
        missing = await http.get("/agent/c/nope")
        assert missing.status_code == 404 and '<html lang="pt-BR">' in missing.text
        assert english_leftovers(visible_text(missing.text)) == []


def test_the_desk_refusals_listed_for_translation_are_the_services_own_words() -> None:
    """A refusal reworded in the service must be reworded in the list too (else it would
    silently stay English on a Portuguese page)."""
    from bot.staff.labels.refusals import DESK_REFUSALS

    services = " ".join(" ".join(path.read_text(encoding="utf-8").split())
                        for path in (ROOT / "bot" / "services" / "agent_desk").glob("*.py"))
    services = services.replace('" "', "")  # implicit concatenation of string literals
    for refusal in DESK_REFUSALS:
        assert f'"{refusal}"' in services or f'"{refusal}' in services, refusal
        assert translations("pt-BR").gettext(refusal) != refusal


async def test_a_desk_refusal_reads_in_portuguese(site: Site) -> None:
    public_id = await site.waiting_conversation()
    async with site.signed_in("alice", lang="pt-BR") as http:
        refused = await post(http, public_id, "note", text="   ")
        assert "nota vazia" in (await http.get(refused.headers["location"])).text
