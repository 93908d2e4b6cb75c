"""Settings: one pydantic-settings class read from ``ACORDO_*`` variables and ``.env``."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: SecretStr | None = None
    rasa_timeout_seconds: float = Field(default=5.0, gt=0)
    # Shared secret Rasa sends (as ?token=) when it calls our action webhook.
    action_token: SecretStr | None = None
    redis_url: str | None = None
    public_url: str | None = None
    default_locale: str = "pt-BR"
    # Demo mode: /chat offers the demo portfolio's web contacts as suggestions.
    demo: bool = False

    telegram_token: SecretStr | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: str = "https://api.twilio.com"
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None

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
        return status
