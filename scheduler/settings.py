"""Every setting once: its environment variable, default and meaning (see CONTRACT and README).

Read through pydantic-settings: each field `x` is the variable `SCHEDULER_X`. Command-line flags,
where a command has them, override the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from scheduler.errors import BadInput


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_", extra="ignore")

    plan: Path = Field(Path("obligations.toml"), description="path of the plan file")
    contacts: Path | None = Field(None, description="path of the contacts CSV; contacts.csv if present")
    database_url: str = Field("sqlite:///var/scheduler.db", description="SQLAlchemy URL")
    smtp_host: str | None = Field(None, description="SMTP server; unset means Maildir delivery")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_utf8: bool = Field(False, description="the SMTP server takes internationalised addresses (SMTPUTF8)")
    mail_from: str = "scheduler@localhost"
    mail_dir: Path = Field(Path("var/mail"), description="the Maildir used when no SMTP host is set")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    base_url: str | None = Field(None, description="public base URL; http://HOST:PORT when unset")
    timezone: str | None = Field(None, description="the plan's local time zone; overrides the plan's policy")
    secret_key_file: Path = Field(Path("var/secret.key"), description="key for contacts' feed links; made if missing")
    admin_user: str = Field("admin", description="user name for the dashboard")
    admin_password: SecretStr | None = Field(None, description="dashboard password; unset: no dashboard")
    admin_password_file: Path | None = Field(None, description="a file holding the dashboard password")

    def admin_credential(self) -> tuple[str, str] | None:
        """(user, password) for the dashboard, from the environment or the file it names."""
        if self.admin_password is not None:
            return self.admin_user, self.admin_password.get_secret_value()
        if self.admin_password_file is not None:
            try:
                secret = self.admin_password_file.read_text(encoding="utf-8").strip()
            except OSError as error:
                raise BadInput(f"SCHEDULER_ADMIN_PASSWORD_FILE: cannot read {self.admin_password_file}: {error.strerror}") from None
            if not secret:
                raise BadInput(f"SCHEDULER_ADMIN_PASSWORD_FILE: {self.admin_password_file} is empty")
            return self.admin_user, secret
        return None

    def contacts_path(self) -> Path | None:
        if self.contacts is not None:
            return self.contacts
        default = Path("contacts.csv")
        return default if default.exists() else None

    def public_base_url(self) -> str:
        return (self.base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        lines = [
            f"SCHEDULER_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        ]
        raise BadInput("bad setting in the environment:\n  " + "\n  ".join(lines)) from None
