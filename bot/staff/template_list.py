"""The template list (/admin): one row per template name, with its description, its situation,
and its variants (language, channel, version in use); searched and filtered server-side."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.rendering.renderer import SUPPORTED_LOCALES
from bot.rendering.template_rules import CHANNELS, channels_of
from bot.rendering.text_folding import fold
from bot.services.template_admin import TemplateEntry
from bot.staff.i18n import StaffLocale
from bot.staff.i18n_markers import N_
from bot.staff.labels.templates import SITUATIONS, about

ALL_CHANNEL_NAMES = CHANNELS  # e-mail included: a message body goes by e-mail too


class BadFilter(ValueError):
    """A filter value the list does not know (shown to the admin, translated)."""


@dataclass(frozen=True)
class TemplateFilters:
    q: str = ""
    locale: str = ""
    channel: str = ""
    situation: str = ""

    def validate(self) -> TemplateFilters:
        if self.locale and self.locale not in SUPPORTED_LOCALES:
            raise BadFilter(N_("unknown language"))
        if self.channel and self.channel not in ALL_CHANNEL_NAMES:
            raise BadFilter(N_("unknown channel"))
        if self.situation and self.situation not in (*SITUATIONS, "none"):
            raise BadFilter(N_("unknown situation"))
        if len(self.q) > 200:
            raise BadFilter(N_("the search is at most 200 characters"))
        return self

    @property
    def active(self) -> bool:
        return bool(self.q or self.locale or self.channel or self.situation)


@dataclass(frozen=True)
class TemplateRow:
    name: str
    situation: str  # a key of SITUATIONS, or "" when the template is not described
    description: str  # in the reader's language, "" when not described
    channels: tuple[str, ...]  # where it can be sent
    variants: tuple[TemplateEntry, ...]

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.key.locale for v in self.variants))


def template_rows(entries: Iterable[TemplateEntry], filters: TemplateFilters,
                  words: StaffLocale) -> list[TemplateRow]:
    """The rows the filters keep, by name; a row's variants are those of the chosen language
    and channel (a variant for all channels counts for every channel the template goes on)."""
    by_name: dict[str, list[TemplateEntry]] = {}
    for entry in entries:
        by_name.setdefault(entry.key.name, []).append(entry)
    wanted = fold(filters.q.strip())
    rows = []
    for name, variants in sorted(by_name.items()):
        known = about(name)
        description = words.gettext(known.description) if known else ""
        situation = known.situation if known else ""
        if filters.situation and situation != ("" if filters.situation == "none" else filters.situation):
            continue
        if wanted and not any(wanted in fold(text) for text in (
                name, description, known.description if known else "")):
            continue
        channels = channels_of(name)
        kept = tuple(v for v in variants
                     if (not filters.locale or v.key.locale == filters.locale)
                     and (not filters.channel or v.key.channel in ("", filters.channel)))
        if not kept or (filters.channel and filters.channel not in channels):
            continue
        rows.append(TemplateRow(name, situation, description, channels, kept))
    return rows
