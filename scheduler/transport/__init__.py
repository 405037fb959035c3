"""Delivering composed messages: SMTP (aiosmtplib) or a Maildir of .eml files."""

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
    return MaildirTransport(settings.mail_dir)
