"""TenantScope: one tenant as the service acts for it (row id, slug, settings), and the one way
to its repository, which filters every query by it and binds the session to it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import TenantSettings
from storage.repositories import TenantRepo


@dataclass(frozen=True)
class TenantScope:
    """A configured tenant: ``id`` its database row, ``slug`` its name in files and commands,
    ``settings`` its tenant file. Made by ``Runtime.scope(slug)``."""

    id: int
    slug: str
    settings: TenantSettings

    @property
    def name(self) -> str:
        return self.settings.name

    def repo(self, session: AsyncSession) -> TenantRepo:
        """The tenant's repository on this session, which then acts for this tenant only
        (row-level security included)."""
        return TenantRepo(session, self.id)
