"""Adapters to mail servers, each behind a small interface with a local twin for tests."""

from bot.transports.errors import TransportError
from bot.transports.imap import ImapMailbox
from bot.transports.mail import InboundMessage, Mailbox, MailSender, run_listener
from bot.transports.maildir import MaildirMailbox, MaildirSender
from bot.transports.smtp import SmtpSender

__all__ = [
    "ImapMailbox",
    "InboundMessage",
    "MailSender",
    "Mailbox",
    "MaildirMailbox",
    "MaildirSender",
    "SmtpSender",
    "TransportError",
    "run_listener",
]
