"""The one way bot text is rendered: sandboxed Jinja templates, formatted with Babel.

Templates live in ``<templates_dir>/<locale>/<name>.j2`` (``templates/pt-BR/greet.j2``).
They are rendered in an ``ImmutableSandboxedEnvironment`` with ``StrictUndefined``: a
template can neither reach Python internals nor mutate what it is given, and a missing
variable is an error, not an empty string. Only plain values go in (str, int, bool, None,
Decimal, date, datetime and lists, tuples and str-keyed dicts of them); anything else, a
float or an ORM object included, is refused with a ``TypeError`` naming the key.

Filters format for the locale of the render call:

- ``money`` (Decimal only): ``{{ amount|money }}`` -> "R$ 1.500,00" (pt-BR), "R$1,500.00"
  (en). The currency is the argument (``money('USD')``), else the template variable
  ``currency``, else BRL. Babel's non-breaking spaces become plain spaces (chat text).
- ``date`` (date or datetime): "15/12/2026" (pt-BR), "Dec 15, 2026" (en);
  ``date('long')`` -> "15 de dezembro de 2026", "December 15, 2026".
- ``percent`` (Decimal or int, in percent units): 5 -> "5%", Decimal("2.5") -> "2,5%".
- ``weekday`` (date or datetime): "sexta-feira", "Friday".

A float given to a filter (a literal in a template) raises ``TemplateValueError``, which
is both a ``TemplateRenderError`` and a ``TypeError``.

Limits: a render's text is at most ``MAX_OUTPUT_CHARS`` (longer output is cut there, with
"…", and rendering stops: a long description or a looping template cannot become a
megabyte reply); ``*`` in a template cannot build a string or list longer than that, nor
``**`` raise to more than ``MAX_EXPONENT``; a render that runs past ``MAX_RENDER_SECONDS``
stops with ``TemplateRenderError``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_currency, format_percent
from jinja2 import (
    BaseLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_context,
)
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "SUPPORTED_LOCALES",
    "TemplateRenderError",
    "TemplateRenderer",
    "TemplateSourceError",
    "TemplateValueError",
    "UnknownTemplate",
    "build_environment",
    "check_plain_values",
    "compile_check",
]

SUPPORTED_LOCALES = ("pt-BR", "en")
_BABEL_LOCALES = {"pt-BR": "pt_BR", "en": "en"}
_DATE_FORMATS = {
    "pt-BR": {"default": "dd/MM/yyyy", "long": "long", "short": "dd/MM/yy", "full": "full"},
    "en": {"default": "medium", "long": "long", "short": "short", "full": "full"},
}
_MOMENT_FORMATS = {"pt-BR": "dd/MM/yyyy HH:mm", "en": "MMM d, yyyy, HH:mm"}
_DEFAULT_CURRENCY = "BRL"
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_PLAIN_SCALARS = (str, int, bool, Decimal, date, datetime, type(None))

MAX_OUTPUT_CHARS = 8_000
MAX_RENDER_SECONDS = 2.0
MAX_EXPONENT = 100
_ELLIPSIS = "…"

# Locale of the render call in progress, read by the filters.
_render_locale: ContextVar[str] = ContextVar("acordo_render_locale", default="pt-BR")


class UnknownTemplate(TemplateNotFound):
    """No ``<locale>/<name>.j2`` for the locale nor for the default locale."""

    def __init__(self, name: str, locale: str) -> None:
        super().__init__(f"{locale}/{name}.j2", f"no template {name!r} for locale {locale!r}")
        self.template_name = name
        self.locale = locale


class TemplateRenderError(Exception):
    """A template failed to render (undefined variable, sandbox refusal, bad syntax)."""

    def __init__(self, template_name: str, message: str) -> None:
        super().__init__(f"template {template_name!r}: {message}")
        self.template_name = template_name
        self.detail = message


class TemplateValueError(TemplateRenderError, TypeError):
    """A filter got a value of the wrong type (a float for money, a str for a date)."""


class TemplateSourceError(TemplateRenderError):
    """A template source does not compile (``compile_check``)."""

    def __init__(self, template_name: str, message: str, lineno: int | None) -> None:
        where = f" (line {lineno})" if lineno else ""
        super().__init__(template_name, f"{message}{where}")
        self.lineno = lineno


def closest_locale(tag: str, default: str = "pt-BR") -> str:
    """"pt", "pt_BR", "pt-PT" -> "pt-BR"; "en-US", "EN" -> "en"; anything else -> default."""
    language = re.split(r"[-_]", tag.strip(), maxsplit=1)[0].lower()
    for supported in SUPPORTED_LOCALES:
        if supported.split("-")[0].lower() == language:
            return supported
    return default


def check_plain_values(variables: Mapping[str, object], path: str = "") -> None:
    """Raise ``TypeError`` naming the key of the first value that is not a plain value."""
    for key, value in variables.items():
        if not isinstance(key, str):
            raise TypeError(f"template variable keys must be str, got {key!r} in {path or 'variables'}")
        _check_value(value, f"{path}.{key}" if path else key)


def _check_value(value: object, path: str) -> None:
    if isinstance(value, float) or not isinstance(value, (*_PLAIN_SCALARS, list, tuple, dict)):
        raise TypeError(
            f"template variable {path!r} is a {type(value).__name__}; only str, int, bool, None,"
            " Decimal, date, datetime, lists and dicts of them may go into a template"
        )
    if isinstance(value, dict):
        check_plain_values(value, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_value(item, f"{path}[{index}]")


def _babel_locale(locale: str) -> Locale:
    return Locale.parse(_BABEL_LOCALES[closest_locale(locale)])


def _template_name(context: Context) -> str:
    return context.name or "<string>"


def _require(value: object, kinds: tuple[type, ...], filter_name: str, context: Context) -> None:
    if isinstance(value, float | bool) or not isinstance(value, kinds):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise TemplateValueError(
            _template_name(context),
            f"filter {filter_name!r} needs {expected}, got {type(value).__name__} {value!r}",
        )


def _plain_spaces(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pass_context
def money_filter(context: Context, value: object, currency: str | None = None) -> str:
    _require(value, (Decimal,), "money", context)
    assert isinstance(value, Decimal)
    chosen = currency or context.get("currency") or _DEFAULT_CURRENCY
    if not isinstance(chosen, str):
        raise TemplateValueError(_template_name(context), "currency must be a str like 'BRL'")
    return format_money(value, chosen, _render_locale.get())


def format_money(value: Decimal, currency: str, locale: str) -> str:
    """``R$ 1.500,00`` (pt-BR), ``R$1,500.00`` (en): the ``money`` filter outside templates."""
    return _plain_spaces(format_currency(value, currency.upper(), locale=_babel_locale(locale)))


@pass_context
def date_filter(context: Context, value: object, style: str = "default") -> str:
    _require(value, (date,), "date", context)
    assert isinstance(value, date)
    locale = closest_locale(_render_locale.get())
    formats = _DATE_FORMATS[locale]
    if style not in formats:
        raise TemplateValueError(
            _template_name(context), f"date style {style!r} is not one of {sorted(formats)}"
        )
    return format_day(value, locale, style)


def format_day(value: date, locale: str, style: str = "default") -> str:
    """``08/12/2026`` (pt-BR), ``Dec 8, 2026`` (en): the ``date`` filter outside templates."""
    locale = closest_locale(locale)
    day = value.date() if isinstance(value, datetime) else value
    return _plain_spaces(format_date(day, _DATE_FORMATS[locale][style], locale=_babel_locale(locale)))


def format_moment(value: datetime, zone: str, locale: str) -> str:
    """A moment in the time zone ``zone``, with the zone shown: ``08/12/2026 00:59 BRT``
    (pt-BR), ``Dec 8, 2026, 00:59 BRT`` (en). The zone's abbreviation is the one Brazilians
    read (CLDR pt-BR: BRT, AMT, ...), else its UTC offset."""
    tz = get_timezone(zone)
    pattern = _MOMENT_FORMATS[closest_locale(locale)]
    when = format_datetime(value, pattern, tzinfo=tz, locale=_babel_locale(locale))
    return _plain_spaces(f"{when} {zone_abbreviation(value, zone)}")


def zone_abbreviation(value: datetime, zone: str) -> str:
    """``BRT`` for America/Sao_Paulo at ``value`` (CLDR pt-BR), else the UTC offset."""
    return format_datetime(value, "z", tzinfo=get_timezone(zone), locale=_babel_locale("pt-BR"))


@pass_context
def percent_filter(context: Context, value: object) -> str:
    _require(value, (Decimal, int), "percent", context)
    assert isinstance(value, Decimal | int)
    return format_percent_number(Decimal(value), _render_locale.get())


def format_percent_number(value: Decimal, locale: str) -> str:
    """``2,5%`` (pt-BR), ``2.5%`` (en) for ``Decimal("2.50")``: the ``percent`` filter outside
    templates."""
    return _plain_spaces(format_percent(value / 100, "#,##0.##%", locale=_babel_locale(locale)))


@pass_context
def weekday_filter(context: Context, value: object) -> str:
    _require(value, (date,), "weekday", context)
    assert isinstance(value, date)
    day = value.date() if isinstance(value, datetime) else value
    return format_date(day, "EEEE", locale=_babel_locale(_render_locale.get()))


class _BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with ``*`` and ``**`` kept from building huge values in one step."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise SecurityError(f"exponent over {MAX_EXPONENT}")
            return left ** right
        for sized, times in ((left, right), (right, left)):
            if (isinstance(sized, str | list | tuple) and isinstance(times, int)
                    and len(sized) * times > MAX_OUTPUT_CHARS):
                raise SecurityError(f"a value over {MAX_OUTPUT_CHARS} long")
        return left * right


def build_environment(loader: BaseLoader | None = None) -> ImmutableSandboxedEnvironment:
    """The sandboxed environment every template is parsed and rendered in."""
    environment = _BoundedEnvironment(
        loader=loader,
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters.update(
        money=money_filter, date=date_filter, percent=percent_filter, weekday=weekday_filter
    )
    return environment


def compile_check(source: str, name: str = "<source>") -> None:
    """Raise ``TemplateSourceError`` when ``source`` would not compile in the sandbox.

    Catches syntax errors and unknown filters or tests (for the admin template editor).
    """
    try:
        build_environment().from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateSourceError(name, error.message or str(error), error.lineno) from error
    except TemplateError as error:
        raise TemplateSourceError(name, str(error), None) from error


def _bounded(name: str, chunks: Any) -> str:
    """Join the rendered chunks, stopping at ``MAX_OUTPUT_CHARS`` or ``MAX_RENDER_SECONDS``."""
    deadline = time.monotonic() + MAX_RENDER_SECONDS
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS * 2:
            break
        if time.monotonic() > deadline:
            raise TemplateRenderError(name, f"rendering took over {MAX_RENDER_SECONDS:g} s")
    text = "".join(parts).strip()
    if len(text) > MAX_OUTPUT_CHARS:
        text = text[:MAX_OUTPUT_CHARS - 1].rstrip() + _ELLIPSIS
    return text


class TemplateRenderer:
    """Renders ``<locale>/<name>.j2`` from ``templates_dir`` for a debtor's locale.

    Versions saved in the template admin are *stored* templates (``use_stored``): they win
    over the files, per locale, and a channel-specific one wins over the one for every
    channel. Stored sources compile in a loader-less sandbox (no ``include`` of files).
    """

    def __init__(self, templates_dir: Path, *, default_locale: str = "pt-BR") -> None:
        self._templates_dir = Path(templates_dir)
        self._default_locale = closest_locale(default_locale)
        self._environment = build_environment(FileSystemLoader(str(self._templates_dir)))
        self._stored_environment = build_environment()
        self._stored: dict[tuple[str, str, str], Any] = {}

    def use_stored(self, sources: Mapping[tuple[str, str, str], str]) -> None:
        """Replace the stored templates: ``{(locale, name, channel): source}`` (channel
        ``""`` = every channel). A source that does not compile is skipped (the file wins)."""
        compiled: dict[tuple[str, str, str], Any] = {}
        for key, source in sources.items():
            try:
                compiled[key] = self._stored_environment.from_string(source)
            except TemplateError:
                continue
        self._stored = compiled

    def set_stored(self, name: str, locale: str, source: str, channel: str = "") -> None:
        """Add or replace one stored template (raises ``TemplateSourceError`` if it does not compile)."""
        try:
            template = self._stored_environment.from_string(source)
        except TemplateSyntaxError as error:
            raise TemplateSourceError(name, error.message or str(error), error.lineno) from error
        self._stored = {**self._stored, (closest_locale(locale), name, channel): template}

    def file_source(self, name: str, locale: str) -> str | None:
        """The source of ``<locale>/<name>.j2`` on disk, if there is one (for the admin)."""
        if not _TEMPLATE_NAME.fullmatch(name) or ".." in name:
            return None
        path = self._templates_dir / closest_locale(locale) / f"{name}.j2"
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def file_names(self) -> dict[str, list[str]]:
        """Template names on disk per supported locale."""
        return {locale: sorted(p.stem for p in (self._templates_dir / locale).glob("*.j2"))
                for locale in SUPPORTED_LOCALES}

    @property
    def default_locale(self) -> str:
        return self._default_locale

    def resolve_locale(self, locale: str) -> str:
        return closest_locale(locale, self._default_locale)

    def compile_check(self, source: str, name: str = "<source>") -> None:
        compile_check(source, name)

    def render(self, name: str, locale: str, variables: Mapping[str, object], *,
               channel: str = "") -> str:
        """The text of template ``name`` for ``locale`` (and ``channel``), stripped.

        Falls back to the default locale when the locale has no such template.
        """
        check_plain_values(variables)
        resolved = self.resolve_locale(locale)
        template = self._load(name, resolved, requested=locale, channel=channel)
        token = _render_locale.set(resolved)
        try:
            return _bounded(name, template.generate(dict(variables)))
        except TemplateValueError as error:
            raise TemplateValueError(name, error.detail) from error
        except TemplateError as error:
            raise TemplateRenderError(name, f"{type(error).__name__}: {error}") from error
        finally:
            _render_locale.reset(token)

    def _load(self, name: str, locale: str, *, requested: str, channel: str = "") -> Any:
        if not _TEMPLATE_NAME.fullmatch(name) or ".." in name:
            raise UnknownTemplate(name, requested)
        candidates = [locale] if locale == self._default_locale else [locale, self._default_locale]
        for candidate in candidates:
            for key in ((candidate, name, channel), (candidate, name, "")):
                if key in self._stored:
                    return self._stored[key]
            try:
                return self._environment.get_template(f"{candidate}/{name}.j2")
            except TemplateNotFound:
                continue
            except TemplateSyntaxError as error:
                raise TemplateSourceError(name, error.message or str(error), error.lineno) from error
        raise UnknownTemplate(name, requested)
