"""The reply reader, pure: bytes of a mail (or a chat message, a filled PDF form, a customer
list) in, what the customer said out. No I/O, no database, nothing of bot/."""
