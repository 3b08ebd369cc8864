"""Per-tenant mailbox listeners: each new mail is stored raw and queued before it is flagged."""

from __future__ import annotations

import asyncio
from typing import Any

from bot import mail
from bot.core.runtime import Runtime
from bot.transports import InboundMessage, run_listener


def _on_message(rt: Runtime, slug: str, mailbox_name: str) -> Any:
    async def on_message(msg: InboundMessage) -> None:
        # Stored (and its job queued) in one transaction; only then does the listener flag it.
        await mail.store_inbound(rt, slug, mailbox_name, msg.uidvalidity, msg.uid, msg.raw)

    return on_message


async def listen(rt: Runtime, slug: str, stop: asyncio.Event) -> None:
    """Run one tenant's listener until stop is set (reconnects on its own)."""
    tenant = rt.tenant(slug)
    imap = tenant.mail.imap
    idle = imap.idle_seconds if imap is not None and tenant.mail.transport == "imap" else 540
    await run_listener(
        rt.mailbox(slug), _on_message(rt, slug, tenant.mail.address), stop, idle_timeout=idle
    )


async def poll_once(rt: Runtime, slug: str) -> int:
    """Take in what is waiting now, once (demo and CLI): returns the number stored."""
    tenant = rt.tenant(slug)
    box = rt.mailbox(slug)
    on_message = _on_message(rt, slug, tenant.mail.address)
    await box.connect()
    try:
        msgs = await box.fetch_unprocessed()
        for msg in msgs:
            await on_message(msg)
            await box.mark_processed(msg)
        return len(msgs)
    finally:
        await box.close()
