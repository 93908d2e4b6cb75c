"""Settings: one pydantic-settings class read from ``ACORDO_*`` variables and ``.env``."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from email.headerregistry import Address
from email.utils import parseaddr
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WhatsAppTemplate(BaseModel):
    """An approved WhatsApp template: its Content SID and our variables for {{1}}, {{2}}, ..."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sid: str
    variables: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _from_sid(cls, value: Any) -> Any:
        return {"sid": value} if isinstance(value, str) else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ACORDO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = "sqlite:///var/acordo.db"
    policies_dir: Path = Path("policies")
    templates_dir: Path = Path("templates")
    admin_token: SecretStr | None = None
    # Bearer token Prometheus sends to GET /metrics (the admin token is accepted too).
    metrics_token: SecretStr | None = None
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = None
    rasa_timeout_seconds: float = Field(default=5.0, gt=0)
    # Shared secret Rasa sends (as ?token=) when it calls our action webhook.
    action_token: SecretStr | None = None
    redis_url: str | None = None
    public_url: str | None = None
    default_locale: str = "pt-BR"
    # Staff sign-in (docs/agent-console.md): after N failed logins of a name from one client
    # address (4N from one address over all names) each try waits 2^(n-N) s, at most the cap;
    # failures older than the window are forgotten. No account is ever locked for everyone.
    login_free_failures: int = Field(default=3, ge=1, le=100)
    login_max_delay_seconds: int = Field(default=900, ge=1)
    login_window_seconds: int = Field(default=86400, ge=60)
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated IPs or CIDRs, e.g.
    # "127.0.0.1,10.0.0.0/8"); from any other peer the header is ignored. Default: none.
    trusted_proxies: str = ""
    # Demo mode: /chat (the demo chat page) exists, lists the demo portfolio's web contacts and
    # may speak as them without a token; only contacts of the demo creditor.
    demo: bool = False
    # Web channel identity (docs/channels.md): portal link tokens are signed with this secret
    # (at least 16 characters; unset: no links are issued or accepted) and last N days.
    link_secret: SecretStr | None = None
    portal_link_days: float = Field(default=7, gt=0, le=90)

    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: str = "https://api.twilio.com"
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None

    # E-mail (docs/channels.md, "E-mail"): on when the host and the sender are set.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None  # "Distribuidora Exemplo <cobranca@exemplo.com.br>"
    smtp_reply_domain: str | None = None  # replies go to <local>+<token>@<this>; default: from's
    # DKIM: sign every e-mail with this selector and RSA private key (PEM) of the sender's domain.
    dkim_selector: str | None = None
    dkim_key_file: Path | None = None
    email_rate_per_second: float = Field(default=5, gt=0)  # the sending domain's cap
    email_domain_rate_per_second: float = Field(default=1, gt=0)  # per receiving domain
    email_chat_rate_per_second: float = Field(default=0.2, gt=0)  # per address
    # Replies are fetched from this IMAP mailbox (the one the Reply-To addresses deliver to).
    imap_host: str | None = None
    imap_port: int = Field(default=993, gt=0, lt=65536)
    imap_security: Literal["tls", "none"] = "tls"
    imap_user: str | None = None
    imap_password: SecretStr | None = None
    imap_mailbox: str = "INBOX"
    imap_poll_seconds: float = Field(default=60, gt=0)  # without IDLE; with it, the IDLE renewal

    # Channels (docs/channels.md). Telegram: "webhook" (needs the secret) or "polling".
    telegram_mode: Literal["webhook", "polling"] = "webhook"
    telegram_bot_username: str | None = None  # for deep links https://t.me/<name>?start=<token>
    telegram_link_ttl_hours: float = Field(default=72, gt=0)
    telegram_rate_per_second: float = Field(default=30, gt=0)
    telegram_chat_rate_per_second: float = Field(default=1, gt=0)
    twilio_sms_mps: float = Field(default=1, gt=0)  # the SMS sender's messages per second
    twilio_whatsapp_mps: float = Field(default=80, gt=0)
    twilio_chat_rate_per_second: float = Field(default=1, gt=0)
    rate_limit_margin: float = Field(default=0.03, ge=0, lt=1)
    # {"<template>": {"<locale>": "HX..." or {"sid": "HX...", "variables": ["contact_name", ...]}}}
    whatsapp_templates: dict[str, dict[str, WhatsAppTemplate]] = Field(default_factory=dict)
    sms_max_segments: int = Field(default=3, ge=1, le=10)
    channel_send_timeout_seconds: float = Field(default=10, gt=0)
    # Receipts (JPEG, PNG, PDF) a debtor sends on WhatsApp: larger files are not kept.
    receipt_max_bytes: int = Field(default=5 * 1024 * 1024, gt=0, le=50 * 1024 * 1024)
    outbox_max_attempts: int = Field(default=8, ge=1)
    outbox_in_app: bool = True  # the app dispatches the outbox too (besides `acordo worker`)
    # Régua (docs/cadence.md): `acordo worker` always runs it; the app too when this is on
    # (`acordo dev` turns it on). Each creditor's day is scheduled again every N minutes.
    cadence_in_app: bool = False
    cadence_schedule_minutes: float = Field(default=15, gt=0)
    cadence_tick_seconds: float = Field(default=30, gt=0)

    # Payments (docs/payments.md): "pix" = static PIX BR Code for policies with creditor.pix_key;
    # "fake" = the fake provider (demos, tests). The webhook secret signs provider callbacks.
    payment_provider: Literal["pix", "fake"] = "pix"
    payment_webhook_secret: SecretStr | None = None
    # A PSP over the Banco Central's API Pix (docs/payments.md): when ACORDO_PIX_API_URL is set
    # it issues every creditor's charges (cob / cobv) instead of the static BR Code. Mutual TLS
    # with PIX_CERT + PIX_KEY (PEM; PIX_CA to trust a private CA), OAuth2 client credentials,
    # PIX_CHAVE the receiving key. Webhook at /payments/pix/<PIX_WEBHOOK_SECRET>, optionally
    # HMAC-signed; the worker sweeps GET /pix every PIX_RECONCILE_MINUTES (0: never).
    pix_api_url: str | None = None
    pix_profile: Literal["bcb", "efi"] = "bcb"
    pix_client_id: str | None = None
    pix_client_secret: SecretStr | None = None
    pix_cert: Path | None = None
    pix_key: Path | None = None
    pix_ca: Path | None = None
    pix_chave: str | None = None
    pix_timeout_seconds: float = Field(default=10, gt=0)
    pix_webhook_secret: SecretStr | None = None
    pix_webhook_hmac_secret: SecretStr | None = None
    pix_reconcile_minutes: float = Field(default=30, ge=0)
    pix_reconcile_hours: float = Field(default=24, gt=0, le=24 * 5)  # the sweep's look-back
    # Results dashboard (docs/dashboard.md): what one message sent costs per channel, in BRL,
    # and what an agent's time costs (agent messages x minutes per message x hourly cost).
    message_costs: dict[str, Decimal] = Field(default_factory=lambda: {
        "web": Decimal("0.00"), "telegram": Decimal("0.00"), "whatsapp": Decimal("0.40"),
        "sms": Decimal("0.10"), "email": Decimal("0.00")})
    agent_cost_per_hour: Decimal = Field(default=Decimal("40.00"), ge=0)
    agent_minutes_per_message: Decimal = Field(default=Decimal("2"), ge=0)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"ACORDO_TRUSTED_PROXIES: {entry!r} is not an IP address or "
                                 "CIDR network") from exc
        return value

    @property
    def trusted_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        return tuple(ipaddress.ip_network(part.strip(), strict=False)
                     for part in self.trusted_proxies.split(",") if part.strip())

    @field_validator("smtp_from")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value:
            sender_address(value)
        return value

    @model_validator(mode="after")
    def _dkim_pair(self) -> Settings:
        if (self.dkim_selector is None) != (self.dkim_key_file is None):
            raise ValueError("DKIM needs both ACORDO_DKIM_SELECTOR and ACORDO_DKIM_KEY_FILE")
        if self.dkim_key_file is not None and not self.dkim_key_file.is_file():
            raise ValueError(f"ACORDO_DKIM_KEY_FILE: {self.dkim_key_file} is not a readable file")
        return self

    @field_validator("link_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < 16:
            raise ValueError("ACORDO_LINK_SECRET needs at least 16 characters")
        return value

    @model_validator(mode="after")
    def _pix_api_complete(self) -> Settings:
        if self.pix_api_url:
            missing = [f"ACORDO_PIX_{name.upper()}" for name in
                       ("client_id", "client_secret", "cert", "key", "chave", "webhook_secret")
                       if not getattr(self, f"pix_{name}")]
            if missing:
                raise ValueError(f"ACORDO_PIX_API_URL is set: also set {', '.join(missing)}")
        return self

    def channel_status(self) -> dict[str, str]:
        """One line per optional channel: on, or off and why."""
        status = {"web": "on"}
        status["telegram"] = "on" if self.telegram_token else "off (ACORDO_TELEGRAM_TOKEN unset)"
        twilio_ready = self.twilio_account_sid and self.twilio_auth_token
        for name, sender in (("whatsapp", self.twilio_whatsapp_from), ("sms", self.twilio_sms_from)):
            if twilio_ready and sender:
                status[name] = "on"
            else:
                status[name] = "off (ACORDO_TWILIO_* settings unset)"
        status["email"] = "on" if self.smtp_host and self.smtp_from else \
            "off (ACORDO_SMTP_HOST or ACORDO_SMTP_FROM unset)"
        return status

    def own_url(self) -> str:
        """Where links to this server point: ``ACORDO_PUBLIC_URL``, else its own address."""
        return self.public_url or f"http://{http_host(self.host)}:{self.port}"


def sender_address(value: str) -> Address:
    """``ACORDO_SMTP_FROM`` as an address: ``Name <local@domain>`` or ``local@domain``."""
    name, addr = parseaddr(value)
    local, at, domain = addr.partition("@")
    if not at or not local or "." not in domain:
        raise ValueError(f"ACORDO_SMTP_FROM: {value!r} is not an e-mail address")
    return Address(display_name=name, username=local, domain=domain.lower())


WILDCARD = frozenset({"0.0.0.0", "::", ""})


def http_host(host: str) -> str:
    """The host to put in a URL that reaches a server listening on ``host``."""
    if host in WILDCARD:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
