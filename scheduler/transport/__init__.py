"""Delivering composed messages: SMTP (aiosmtplib) or a Maildir of .eml files."""

from pathlib import Path

from scheduler.transport.base import Delivery, Message, Outgoing, Transport, TransportError
from scheduler.transport.maildir import MaildirTransport
from scheduler.transport.smtp import SmtpTransport

__all__ = ["Delivery", "MaildirTransport", "Message", "Outgoing", "SmtpTransport", "Transport", "TransportError", "for_settings"]


def for_settings(settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(
            host=settings.smtp_host,
            port=settings.smtp_port,
            tls=settings.smtp_tls,
            username=settings.smtp_username,
            password=settings.smtp_secret(),
        )
    from scheduler.folders import require_folder

    # The Maildir itself is made like a file, in an existing folder: that folder must exist.
    require_folder(Path(settings.mail_dir).parent, "SCHEDULER_MAIL_DIR", f"the Maildir {settings.mail_dir}")
    return MaildirTransport(settings.mail_dir)
