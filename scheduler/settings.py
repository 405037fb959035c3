"""Every setting once: its environment variable, default and meaning (see CONTRACT and README).

Read through pydantic-settings: each field `x` is the variable `SCHEDULER_X`. Command-line flags,
where a command has them, override the environment.
"""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from scheduler.errors import BadInput


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SCHEDULER_", extra="ignore")

    plan: Path = Field(Path("obligations.toml"), description="path of the plan file, or a directory whose *.toml files are plans loaded together")
    contacts: Path | None = Field(None, description="path of the contacts CSV; contacts.csv if present")
    # repr=False: with SCHEDULER_DATABASE_PASSWORD_FILE the URL carries the password
    database_url: str = Field("sqlite:///var/scheduler.db", description="SQLAlchemy URL", repr=False)
    database_password_file: Path | None = Field(None, description="a file holding the PostgreSQL password; put into the URL")
    smtp_host: str | None = Field(None, description="SMTP server; unset means Maildir delivery")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_password_file: Path | None = Field(None, description="a file holding the SMTP password")
    smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    smtp_utf8: bool = Field(False, description="the SMTP server takes internationalised addresses (SMTPUTF8)")
    mail_from: str = "scheduler@localhost"
    mail_from_name: str | None = Field(None, description="From's display name; unset: the plan's coordinator "
                                       "(the commission's working body) named in the reader's language")
    reply_to: str | None = Field(None, description="the address a reply goes to (the secretariat); unset: no Reply-To")
    mail_dir: Path = Field(Path("var/mail"), description="the Maildir used when no SMTP host is set")
    http_host: str = "127.0.0.1"
    http_port: int = Field(8080, ge=1, le=65535)
    base_url: str | None = Field(None, description="public base URL; http://HOST:PORT when unset")
    timezone: str | None = Field(None, description="the plan's local time zone; overrides the plan's policy")
    secret_key_file: Path = Field(Path("var/secret.key"), description="key for contacts' feed links; made if missing")
    link_days: int = Field(30, ge=1, le=366, description="how long a personal link in an email signs its person in")
    templates_dir: Path | None = Field(None, description="a directory whose templates override the shipped ones "
                                       "(same relative paths: email/…, web/…)")
    sign_in_minutes: int = Field(15, ge=1, le=24 * 60, description="how long a one-time sign-in link asked for on /signin works")
    session_idle_minutes: int = Field(120, ge=5, le=24 * 60, description="a signed-in browser unused this long must open its link again")
    session_hours: int = Field(12, ge=1, le=24 * 30, description="a signed-in browser must open its link again after this long, used or not")
    max_upload_mb: int = Field(20, ge=1, le=1024, description="the largest document accepted with an answer, in MB")
    admin_user: str = Field("admin", description="user name for the dashboard")
    admin_password: SecretStr | None = Field(None, description="dashboard password; unset: no dashboard")
    admin_password_file: Path | None = Field(None, description="a file holding the dashboard password")
    trusted_proxies: str = Field("", description="comma-separated addresses and networks (CIDR) of the reverse proxies "
                                 "whose X-Forwarded-For and X-Forwarded-Proto are believed; empty: nobody's")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        """Each entry an IP address or a network; a host part in a network (10.0.0.1/8) is refused
        rather than widened, and so is `*`: whom to believe is named, never everybody."""
        entries = []
        for entry in (part.strip() for part in value.split(",")):
            if not entry:
                continue
            try:
                entries.append(str(ipaddress.ip_network(entry) if "/" in entry else ipaddress.ip_address(entry)))
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or a network such as 10.0.0.0/8") from None
        return ",".join(entries)

    def proxies(self) -> list[str]:
        """The trusted proxies, as uvicorn's `forwarded_allow_ips` takes them; empty: trust nobody."""
        return self.trusted_proxies.split(",") if self.trusted_proxies else []

    @model_validator(mode="after")
    def _database_password(self) -> Settings:
        """The password in SCHEDULER_DATABASE_PASSWORD_FILE, put into the URL as a URL must carry it
        (`@`, `/`, `%` escaped); no message shows it."""
        if self.database_password_file is None:
            return self
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.database_url)
        except ArgumentError:
            raise BadInput("SCHEDULER_DATABASE_URL: not a database URL") from None
        if url.get_backend_name() != "postgresql":
            raise BadInput(f"SCHEDULER_DATABASE_PASSWORD_FILE: only for a PostgreSQL URL, not {url.get_backend_name()}")
        if url.password is not None:
            raise BadInput("SCHEDULER_DATABASE_URL carries a password and SCHEDULER_DATABASE_PASSWORD_FILE names one: "
                           "give it in one place, not both")
        secret = _secret_from_file("SCHEDULER_DATABASE_PASSWORD_FILE", self.database_password_file)
        self.database_url = url.set(password=secret).render_as_string(hide_password=False)
        return self

    def smtp_secret(self) -> str | None:
        """The SMTP password: SCHEDULER_SMTP_PASSWORD, else the file SCHEDULER_SMTP_PASSWORD_FILE names."""
        if self.smtp_password is not None:
            return self.smtp_password.get_secret_value()
        if self.smtp_password_file is not None:
            return _secret_from_file("SCHEDULER_SMTP_PASSWORD_FILE", self.smtp_password_file)
        return None

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


def _secret_from_file(variable: str, path: Path) -> str:
    """A password kept in a file (a Docker secret, a 0640 file under /etc): its text without the
    line break that `echo` leaves; spaces inside or around it are the password's own."""
    try:
        secret = path.read_text(encoding="utf-8").strip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not UTF-8 text"
        raise BadInput(f"{variable}: cannot read {path}: {reason}") from None
    if not secret:
        raise BadInput(f"{variable}: {path} is empty")
    return secret


def load_settings() -> Settings:
    """The settings from the environment; the site's template directory, if named, is put in use."""
    try:
        settings = Settings()
    except ValidationError as error:
        lines = [
            f"SCHEDULER_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors()
        ]
        raise BadInput("bad setting in the environment:\n  " + "\n  ".join(lines)) from None
    if settings.templates_dir is not None and not settings.templates_dir.is_dir():
        raise BadInput(f"SCHEDULER_TEMPLATES_DIR: {settings.templates_dir} is not a directory")
    if settings.templates_dir is not None or "scheduler.templating" in sys.modules:
        # Templating (Jinja2, Babel) is loaded only where something is written from a template, not
        # to read the settings: until then it has no site directory, as configure(None) leaves it.
        from scheduler import templating

        templating.configure(settings.templates_dir)
    return settings
