"""Secrets from files: the SMTP and PostgreSQL passwords, read from the file a setting names."""

import pytest
from sqlalchemy.engine import make_url

from scheduler.errors import BadInput
from scheduler.settings import Settings, load_settings

AWKWARD = "p@ss/w%rd:#?x y"  # everything that breaks a URL when pasted into it


@pytest.fixture
def env(monkeypatch):
    for name in ("SCHEDULER_DATABASE_URL", "SCHEDULER_DATABASE_PASSWORD_FILE", "SCHEDULER_SMTP_PASSWORD",
                 "SCHEDULER_SMTP_PASSWORD_FILE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch.setenv


def test_the_database_password_file_goes_into_the_url_escaped(tmp_path, env):
    secret = tmp_path / "postgres_password"
    secret.write_text(AWKWARD + "\n")
    env("SCHEDULER_DATABASE_URL", "postgresql+psycopg://scheduler@postgres:5432/scheduler")
    env("SCHEDULER_DATABASE_PASSWORD_FILE", str(secret))
    settings = load_settings()
    url = make_url(settings.database_url)
    assert (url.username, url.password, url.host, url.port, url.database) == ("scheduler", AWKWARD, "postgres", 5432, "scheduler")
    assert "p@ss" not in repr(settings) and "p@ss" not in str(settings)


@pytest.mark.parametrize(
    ("url", "content", "fragment"),
    [
        ("postgresql+psycopg://scheduler@postgres/scheduler", None, "cannot read"),
        ("postgresql+psycopg://scheduler@postgres/scheduler", "\n", "is empty"),
        ("sqlite:///var/scheduler.db", "s3cret", "only for a PostgreSQL URL"),
        ("postgresql+psycopg://scheduler:other@postgres/scheduler", "s3cret", "not both"),
        ("no url at all", "s3cret", "SCHEDULER_DATABASE_URL: not a database URL"),
    ],
)
def test_database_password_file_problems(tmp_path, env, url, content, fragment):
    secret = tmp_path / "postgres_password"
    if content is not None:
        secret.write_text(content)
    env("SCHEDULER_DATABASE_URL", url)
    env("SCHEDULER_DATABASE_PASSWORD_FILE", str(secret))
    with pytest.raises(BadInput) as raised:
        load_settings()
    message = str(raised.value)
    assert fragment in message and "s3cret" not in message and "other" not in message
    assert "SCHEDULER_DATABASE" in message


def test_the_smtp_password_comes_from_the_environment_or_a_file(tmp_path, env):
    assert Settings().smtp_secret() is None
    secret = tmp_path / "smtp_password"
    secret.write_text(AWKWARD + "\n")
    env("SCHEDULER_SMTP_PASSWORD_FILE", str(secret))
    assert Settings().smtp_secret() == AWKWARD
    env("SCHEDULER_SMTP_PASSWORD", "from-the-environment")
    assert Settings().smtp_secret() == "from-the-environment"


def test_an_unreadable_smtp_password_file_is_bad_input(tmp_path, env):
    env("SCHEDULER_SMTP_PASSWORD_FILE", str(tmp_path / "missing"))
    with pytest.raises(BadInput, match="SCHEDULER_SMTP_PASSWORD_FILE: cannot read .*missing"):
        Settings().smtp_secret()
    (tmp_path / "empty").write_text("")
    env("SCHEDULER_SMTP_PASSWORD_FILE", str(tmp_path / "empty"))
    with pytest.raises(BadInput, match="empty"):
        Settings().smtp_secret()


def test_the_upload_limit_is_20_mb_unless_set(monkeypatch):
    monkeypatch.delenv("SCHEDULER_MAX_UPLOAD_MB", raising=False)
    assert load_settings().max_upload_mb == 20
    monkeypatch.setenv("SCHEDULER_MAX_UPLOAD_MB", "5")
    assert load_settings().max_upload_mb == 5
    monkeypatch.setenv("SCHEDULER_MAX_UPLOAD_MB", "0")
    with pytest.raises(BadInput, match="SCHEDULER_MAX_UPLOAD_MB"):
        load_settings()


def test_trusted_proxies_are_addresses_and_networks_and_nobody_by_default(monkeypatch):
    monkeypatch.delenv("SCHEDULER_TRUSTED_PROXIES", raising=False)
    assert load_settings().proxies() == [], "nobody's X-Forwarded-For is believed unless named"
    monkeypatch.setenv("SCHEDULER_TRUSTED_PROXIES", " 127.0.0.1, 10.0.0.0/8,::1 ,")
    assert load_settings().proxies() == ["127.0.0.1", "10.0.0.0/8", "::1"]


@pytest.mark.parametrize("value", ["*", "proxy.example.kz", "10.0.0.1/8", "127.0.0.1;10.0.0.2"])
def test_a_trusted_proxy_that_is_no_address_or_network_is_refused(monkeypatch, value):
    monkeypatch.setenv("SCHEDULER_TRUSTED_PROXIES", value)
    with pytest.raises(BadInput, match="SCHEDULER_TRUSTED_PROXIES: .*is not an IP address or a network"):
        load_settings()
