"""Mail in: the listener keeps each raw mail and queues it; the inbound pipeline routes,
screens and authenticates it, reads it, and hands the reading to bot.contracts."""

from bot.mail.inbound import inbound_key, process_inbound, store_inbound
from bot.mail.listener import listen, poll_once

__all__ = ["inbound_key", "listen", "poll_once", "process_inbound", "store_inbound"]
