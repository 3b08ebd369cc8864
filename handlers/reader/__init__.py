"""The reply reader, pure: bytes of a mail (or a chat message, a filled PDF form, a customer
list) in, what the customer said out. No I/O, no database, nothing of bot/."""

from handlers.reader.reader import own_text, read_reply

__all__ = ["own_text", "read_reply"]
