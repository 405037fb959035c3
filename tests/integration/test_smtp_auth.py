"""SMTP authentication from the settings, against aiosmtpd requiring AUTH."""

import asyncio

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from scheduler.notify import compose
from scheduler.settings import Settings
from scheduler.transport import for_settings
from tests.smtp import Mailbox, free_port
from tests.unit.test_email_templates import ITEMS, LETTERHEAD, NOW

# The test server takes AUTH without TLS on loopback on purpose; aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Accounts:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"secretariat", b"s3cret")
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_server():
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, authenticator=Accounts(),
                            auth_required=True, auth_require_tls=False)
    controller.start()
    yield mailbox, port
    controller.stop()


def message():
    return compose.reminder(compose.Recipient("a@minfin.example.kz", "Айгүл", "kk"), "reminder-7d", ITEMS, LETTERHEAD, NOW)


def deliver(port, password, monkeypatch):
    for name, value in {"SCHEDULER_SMTP_HOST": "127.0.0.1", "SCHEDULER_SMTP_PORT": str(port), "SCHEDULER_SMTP_TLS": "none",
                        "SCHEDULER_SMTP_USERNAME": "secretariat", "SCHEDULER_SMTP_PASSWORD": password}.items():
        monkeypatch.setenv(name, value)
    transport = for_settings(Settings())
    return asyncio.run(transport.deliver([message()]))[0]


def test_credentials_from_the_environment_are_used(auth_server, monkeypatch):
    mailbox, port = auth_server
    assert deliver(port, "s3cret", monkeypatch).error is None
    assert len(mailbox.messages) == 1


def test_a_wrong_password_is_a_permanent_failure(auth_server, monkeypatch):
    mailbox, port = auth_server
    outcome = deliver(port, "wrong", monkeypatch)
    assert outcome.error is not None and not outcome.error.transient and outcome.error.code == 535
    assert mailbox.messages == []


def test_the_password_can_come_from_a_file(auth_server, monkeypatch, tmp_path):
    mailbox, port = auth_server
    secret = tmp_path / "smtp_password"
    secret.write_text("s3cret\n")  # as `echo s3cret > file` leaves it
    for name, value in {"SCHEDULER_SMTP_HOST": "127.0.0.1", "SCHEDULER_SMTP_PORT": str(port), "SCHEDULER_SMTP_TLS": "none",
                        "SCHEDULER_SMTP_USERNAME": "secretariat", "SCHEDULER_SMTP_PASSWORD_FILE": str(secret)}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SCHEDULER_SMTP_PASSWORD", raising=False)
    outcome = asyncio.run(for_settings(Settings()).deliver([message()]))[0]
    assert outcome.error is None and len(mailbox.messages) == 1
