"""Whether an uploaded file is a document archived by this installation, by its SHA-256 only.

The archive is shared by tenants, and the page is public. What it may say about a match is
decided here: only that this exact file is archived here, and the day it was archived (for a
signed contract: the day it was completed). Nothing else of the entry (tenant, customer,
contract, id) leaves this module. Only someone who already holds the exact bytes can learn
that much: a SHA-256 cannot be guessed from a contract's text (the final PDF carries a random
instance id and timestamps). Each tenant is asked in a transaction of its own, through its
repository (row-level security holds); a match is an audit event of that tenant.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage import audit
from storage.database import Database
from storage.errors import NotFound
from storage.repositories import TenantRepo, get_tenant

__all__ = ["ArchiveMatch", "find_archived"]

ACTOR = "web:verify"


@dataclass(frozen=True)
class ArchiveMatch:
    archived_on: dt.date


async def find_archived(db: Database, slugs: list[str], sha256: str) -> ArchiveMatch | None:
    for slug in slugs:
        async with db.transaction() as session:
            try:
                tenant = await get_tenant(session, slug)
            except NotFound:  # configured but never started: nothing archived for it
                continue
            entry = await TenantRepo(session, tenant.id).archive_entry_by_sha256(sha256)
            if entry is None:
                continue
            await audit.record(session, tenant.id, ACTOR, "archive.public_match", entry.id)
            return ArchiveMatch(archived_on=entry.created_at.date())
    return None
