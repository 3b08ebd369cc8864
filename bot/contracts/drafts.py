"""Invitation drafts: one shared render per tenant, template and text version, each customer's
values stamped into it; a draft whose values cannot be stamped is rendered whole."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from typing import Any

from bot.core.settings import TenantSettings
from bot.domain.data import document_data
from bot.jobs import cpu
from templates.documents import text_version
from templates.shared_drafts import STAMP_WIDTHS, SharedDraft, stamp_draft

log = logging.getLogger(__name__)

# Shared renders kept: a few tenants' and templates' at once (each about 80 KB).
KEEP = 16
_shared: OrderedDict[tuple[str, ...], SharedDraft] = OrderedDict()
_rendering: dict[tuple[str, ...], asyncio.Future[SharedDraft]] = {}
# How many shared renders were made (a new tenant, template or text version): for tests.
renders = 0


class Drafts:
    """One send's drafts for one tenant: the template's text version read once."""

    def __init__(self, tenant: TenantSettings) -> None:
        self.tenant = tenant
        self.template = tenant.template
        self.version = text_version(tenant.template)

    async def pdf(self, fields: dict[str, str]) -> bytes:
        """The draft PDF of a customer with these field values (the invitation's)."""
        stamped = {k: v for k, v in fields.items() if k in STAMP_WIDTHS}
        rest = {k: v for k, v in fields.items() if k not in STAMP_WIDTHS}
        data = document_data(self.tenant, rest, version=1, draft=True)
        keys = sorted(k for k, v in stamped.items() if v.strip())
        shared = await self._shared(data, keys)
        pdf = stamp_draft(shared, self.template, stamped)  # about 0.3 ms: not worth the pool
        if pdf is not None:
            return pdf
        # A value the stamp cannot show (a character outside WinAnsi, too long for its box).
        return await cpu.render(
            self.template, document_data(self.tenant, fields, version=1, draft=True), draft=True
        )

    async def _shared(self, data: dict[str, Any], keys: list[str]) -> SharedDraft:
        key = (
            self.tenant.slug,
            self.template,
            self.version,
            json.dumps(data, sort_keys=True),
            ",".join(keys),
        )
        if key in _shared:
            _shared.move_to_end(key)
            return _shared[key]
        loop = asyncio.get_running_loop()
        pending = _rendering.get(key)
        if pending is not None and pending.get_loop() is loop:
            return await asyncio.shield(pending)  # another customer asked first: one render
        future: asyncio.Future[SharedDraft] = loop.create_future()
        _rendering[key] = future
        try:
            shared = await cpu.render_shared(self.template, data, keys)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            if _rendering.get(key) is future:
                del _rendering[key]
        global renders
        renders += 1
        future.set_result(shared)
        _shared[key] = shared
        while len(_shared) > KEEP:
            _shared.popitem(last=False)
        return shared
