"""What `acordo dev` (``make run``) runs with, and where each value came from.

Precedence, highest first: a command-line option (``--port``, ``--rasa-port``), the
environment, the ``.env`` file (both read through :class:`bot.config.Settings`), then the
tokens generated once into ``var/dev-secrets.json`` and the settings' defaults.
Pure: it reads no files and starts nothing, so it is tested without processes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bot.config import WILDCARD, Settings, http_host

GENERATED = "generated, in var/dev-secrets.json"
DEFAULT = "default"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class DevSettingsError(ValueError):
    """A setting `acordo dev` cannot run with; the message names it."""


def hide_password(url: str) -> str:
    """The database URL with its password (user info or ``?password=``) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")  # the last @: a password may hold one
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{hostport}"
    path = re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", path)
    return f"{scheme}://{netloc}{slash}{path}"


@dataclass(frozen=True)
class DevSettings:
    host: str
    port: int
    database_url: str
    admin_token: str
    rasa_port: int
    rasa_token: str
    action_token: str
    link_secret: str = ""  # signs portal links (ACORDO_LINK_SECRET); empty: links are off
    # setting name -> where its value came from ("from ACORDO_PORT", "default", ...)
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def app_url(self) -> str:
        return f"http://{http_host(self.host)}:{self.port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"  # the dev Rasa listens on loopback only

    @property
    def action_url(self) -> str:
        return f"{self.app_url}/actions/webhook"

    def child_env(self) -> dict[str, str]:
        """The values in force, as the app and `acordo demo load` read them."""
        return {
            "ACORDO_HOST": self.host, "ACORDO_PORT": str(self.port),
            "ACORDO_DATABASE_URL": self.database_url, "ACORDO_ADMIN_TOKEN": self.admin_token,
            "ACORDO_RASA_URL": self.rasa_url, "ACORDO_RASA_TOKEN": self.rasa_token,
            "ACORDO_ACTION_TOKEN": self.action_token,
            **({"ACORDO_LINK_SECRET": self.link_secret} if self.link_secret else {}),
        }

    def banner(self, portal_links: Sequence[tuple[str, str]] = ()) -> str:
        """What `acordo dev` prints once everything answers; ``portal_links``: (debtor name,
        URL) of the link issued for each demo debtor."""
        src = self.sources
        everywhere = ", all interfaces" if self.host in WILDCARD else ""
        width = max((len(name) for name, _ in portal_links), default=0)
        links = "".join(f"\n  {name.ljust(width)}  {url}" for name, url in portal_links)
        links = (f"\nPortal links (one per demo debtor; acordo portal link DEBTOR for more):{links}"
                 if portal_links else "\nPortal links: none (ACORDO_LINK_SECRET unset)")
        return f"""
Acordo is running.
  Chat page:    {self.app_url}/chat  (demo mode: pick a demo contact)
  Admin API:    {self.app_url}/api/v1/  (Authorization: Bearer {self.admin_token})
  API docs:     {self.app_url}/docs
  Rasa server:  {self.rasa_url}  (token {self.rasa_token})
Settings in force:
  host          {self.host}{everywhere}  ({src.get("host", DEFAULT)})
  port          {self.port}  ({src.get("port", DEFAULT)})
  database      {hide_password(self.database_url)}  ({src.get("database_url", DEFAULT)})
  admin token   {self.admin_token}  ({src.get("admin_token", DEFAULT)})
  rasa port     {self.rasa_port}  ({src.get("rasa_port", DEFAULT)})
  rasa token    ({src.get("rasa_token", DEFAULT)})
  action token  ({src.get("action_token", DEFAULT)})
  link secret   ({src.get("link_secret", "unset: no portal links")}){links}
Press Ctrl-C to stop."""


def _source(settings: Settings, name: str, environ: Mapping[str, str]) -> str | None:
    """Where ``settings.<name>`` came from, or None when it is the default."""
    if name not in settings.model_fields_set:
        return None
    variable = f"ACORDO_{name.upper()}"
    in_environment = any(key.upper() == variable for key in environ)
    return f"from {variable}" if in_environment else f"from {variable} in .env"


def _rasa_port(settings: Settings, environ: Mapping[str, str]) -> tuple[int, str] | None:
    """The port of ACORDO_RASA_URL when it is set: `acordo dev` starts Rasa there."""
    source = _source(settings, "rasa_url", environ)
    if source is None:
        return None
    parts = urlsplit(settings.rasa_url)
    try:
        port = parts.port or 80
    except ValueError as exc:
        raise DevSettingsError(f"ACORDO_RASA_URL={settings.rasa_url!r}: {exc}") from exc
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise DevSettingsError(
            f"ACORDO_RASA_URL={settings.rasa_url!r}: acordo dev starts its own Rasa server on this "
            "machine; set it to http://127.0.0.1:PORT (or unset it, or use --rasa-port)")
    return port, source


def _check_port(name: str, port: int, source: str) -> None:
    if not 0 < port < 65536:
        raise DevSettingsError(f"{name} {port} ({source}) is not a port number (1-65535)")


def resolve_dev_settings(settings: Settings, secrets: Mapping[str, str], *,
                         environ: Mapping[str, str], port: int | None = None,
                         rasa_port: int | None = None, generated: str = GENERATED) -> DevSettings:
    """The values `acordo dev` runs with.

    ``settings`` was read from the environment and ``.env``; ``secrets`` are the generated
    tokens (keys ``admin``, ``rasa``, ``action`` and ``link``), used only where no token is set;
    ``environ`` tells the environment from ``.env`` in the sources; ``port`` and
    ``rasa_port`` are the command-line options (None: not given); ``generated`` is the
    source shown for a generated token.
    """
    sources: dict[str, str] = {}
    for name in ("host", "port", "database_url"):
        found = _source(settings, name, environ)
        if found:
            sources[name] = found
    app_port = settings.port
    if port is not None:
        app_port, sources["port"] = port, "from --port"
    _check_port("port", app_port, sources.get("port", DEFAULT))

    tokens: dict[str, str] = {}
    for name, key in (("admin_token", "admin"), ("rasa_token", "rasa"), ("action_token", "action")):
        value = getattr(settings, name)
        if value is not None and value.get_secret_value():
            tokens[name] = value.get_secret_value()
            sources[name] = _source(settings, name, environ) or DEFAULT
        else:
            tokens[name] = secrets[key]
            sources[name] = generated

    link_secret = settings.link_secret.get_secret_value() if settings.link_secret else ""
    if link_secret:
        sources["link_secret"] = _source(settings, "link_secret", environ) or DEFAULT
    elif secrets.get("link"):
        link_secret, sources["link_secret"] = secrets["link"], generated

    rasa = 5005
    if rasa_port is not None:
        rasa, sources["rasa_port"] = rasa_port, "from --rasa-port"
    elif (from_url := _rasa_port(settings, environ)) is not None:
        rasa, sources["rasa_port"] = from_url
    _check_port("rasa port", rasa, sources.get("rasa_port", DEFAULT))
    if rasa == app_port:
        raise DevSettingsError(f"the app and Rasa cannot both listen on port {rasa}")

    return DevSettings(host=settings.host, port=app_port, database_url=settings.database_url,
                       admin_token=tokens["admin_token"], rasa_port=rasa,
                       rasa_token=tokens["rasa_token"], action_token=tokens["action_token"],
                       link_secret=link_secret, sources=sources)
