"""Customers on Telegram (bind with a mailed code, answer, accept, send PDFs) and the delivery
of staff notifications and customer chat messages. No function here knows python-telegram-bot:
handlers/customer turns updates into ``Incoming`` and sends back ``Reply`` lists."""

from bot.chat.binding import CODE_MINUTES, MAX_TRIES, start
from bot.chat.context import binding_of, is_customer
from bot.chat.conversation import on_button, on_text, status
from bot.chat.documents import on_document
from bot.chat.incoming import Incoming
from bot.outbox.chat import Reply

__all__ = [
    "CODE_MINUTES",
    "MAX_TRIES",
    "Incoming",
    "Reply",
    "binding_of",
    "is_customer",
    "on_button",
    "on_document",
    "on_text",
    "start",
    "status",
]
