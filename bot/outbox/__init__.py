"""What dpabot says to customers: mails composed in their language, stored with their
Message-ID and queued in the caller's transaction, sent by a job; and the messages queued for a
customer's Telegram chat."""

from bot.outbox.chat import Reply, final_reply, queue_final, queue_for_chat
from bot.outbox.mailer import compose, flatten, pdf_part
from bot.outbox.marks import SECRET_KINDS, redacted
from bot.outbox.queue import customer_mail, mail_context, named_field, queue_mail, queue_mails
from bot.outbox.send import send_message, send_messages

__all__ = [
    "SECRET_KINDS",
    "Reply",
    "compose",
    "customer_mail",
    "final_reply",
    "flatten",
    "mail_context",
    "named_field",
    "pdf_part",
    "queue_final",
    "queue_for_chat",
    "queue_mail",
    "queue_mails",
    "redacted",
    "send_message",
    "send_messages",
]
