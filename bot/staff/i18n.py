"""The staff pages in the reader's language: gettext catalogs (Babel), formats, labels.

pt-BR by default; English when the ``acordo_staff_lang`` cookie says ``en`` (set by the
switch in the header, ``/staff/lang``). The catalogs are ``bot/staff/locale/<ll_CC>/
LC_MESSAGES/messages.po`` (``make messages`` extracts and updates them); they are compiled in
memory on first use, so no binary ``.mo`` is kept in the repository.

Each locale has its own Jinja environment (the ``i18n`` extension with that locale's
translations installed, and filters bound to it): a page is rendered by the environment of the
request's locale, so two requests in different languages never share translations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request
from jinja2 import Environment, PackageLoader, pass_context
from jinja2.runtime import Context

from bot.rendering.renderer import (
    format_day,
    format_moment,
    format_money,
    format_percent_number,
    zone_abbreviation,
)
from bot.staff.day_input import DAY_PATTERN
from bot.staff.labels import label_id
from bot.staff.labels.offers import describe_offer
from bot.staff.labels.refusals import NAMED_REFUSALS

LANG_COOKIE = "acordo_staff_lang"
STAFF_LOCALES = ("pt-BR", "en")
DEFAULT_LOCALE = "pt-BR"
DEFAULT_ZONE = "America/Sao_Paulo"
LOCALE_DIR = Path(__file__).parent / "locale"
_CATALOG_NAMES = {"pt-BR": "pt_BR", "en": "en"}


def catalog_path(locale: str) -> Path:
    return LOCALE_DIR / _CATALOG_NAMES[locale] / "LC_MESSAGES" / "messages.po"


@cache
def translations(locale: str) -> Translations:
    """The locale's catalog, compiled from its .po in memory (fuzzy entries are not used)."""
    with catalog_path(locale).open("rb") as po:
        catalog = read_po(po, locale=_CATALOG_NAMES[locale])
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def request_locale(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in STAFF_LOCALES else DEFAULT_LOCALE


@dataclass(frozen=True)
class StaffLocale:
    """The reader's language: its translations and formats."""

    tag: str

    @property
    def translations(self) -> Translations:
        return translations(self.tag)

    @property
    def babel(self) -> str:
        return _CATALOG_NAMES[self.tag]

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def translate(self, message: str) -> str:
        """A console message or refusal in this language; one naming a staff user ("already
        taken by alice") through its pattern in ``NAMED_REFUSALS``."""
        translated = self.gettext(message)
        if translated != message:
            return translated
        for pattern, message_id in NAMED_REFUSALS:
            found = pattern.fullmatch(message)
            if found:
                return self.gettext(message_id) % found.groupdict()
        return message

    def label(self, code: object, kind: str) -> str:
        return "—" if code is None or code == "" else self.gettext(label_id(kind, str(code)))

    def money(self, value: Decimal, currency: str = "BRL") -> str:
        return format_money(value, currency, self.tag)

    def day(self, value: date) -> str:
        return format_day(value, self.tag)

    def percent(self, value: Decimal) -> str:
        return format_percent_number(value, self.tag)

    def offer(self, kind: str, count: int, discount_percent: Decimal) -> str:
        return describe_offer(kind, count, discount_percent, self.translations, self.tag)


def locale_of(request: Request) -> StaffLocale:
    return StaffLocale(request_locale(request))


@pass_context
def _moment(context: Context, value: datetime, zone: str | None = None) -> str:
    """``value`` in the zone given, else the page's ``zone`` (the creditor's), zone shown."""
    chosen = zone or context.get("zone") or DEFAULT_ZONE
    return format_moment(value, str(chosen), context["locale"].tag)


@pass_context
def _zone_name(context: Context, value: datetime) -> str:
    return zone_abbreviation(value, str(context.get("zone") or DEFAULT_ZONE))


@cache
def staff_pages(locale: str) -> Environment:
    """Jinja2 for the staff pages (bot/web/staff/) in ``locale``, autoescaped (built on first use)."""
    env = Environment(loader=PackageLoader("bot", "web/staff"), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    words = StaffLocale(locale)
    env.filters.update(money=words.money, day=words.day, percent=words.percent, label=words.label,
                       moment=_moment, zone_name=_zone_name)
    env.globals.update(locale=words, describe_offer=words.offer, lang=locale, translate=words.translate,
                       day_pattern=DAY_PATTERN)
    return env


def render_page(locale: str, name: str, context: dict[str, Any]) -> str:
    return staff_pages(locale).get_template(name).render(**context)
