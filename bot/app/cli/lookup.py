"""Which tenant a command names: one sentence and exit 2 for a tenant that is not there,
whether the command reads the configuration or only the database."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app.cli.common import UsageError, no_tenant
from bot.core.settings import ServiceSettings, TenantSettings, load_tenant
from storage.models import Tenant
from storage.repositories import get_tenant


def configured(settings: ServiceSettings, slug: str) -> TenantSettings:
    """The configured tenant of that slug."""
    tenants = [load_tenant(p) for p in settings.tenants]
    for tenant in tenants:
        if tenant.slug == slug:
            return tenant
    raise no_tenant(slug, (t.slug for t in tenants))


async def registered(s: AsyncSession, settings: ServiceSettings, slug: str) -> Tenant:
    """The tenant's row, the session then acting for it; the same sentence as everywhere when
    there is none."""
    if await s.scalar(select(Tenant.id).where(Tenant.slug == slug)) is None:
        configured_slugs = [load_tenant(p).slug for p in settings.tenants]
        if slug in configured_slugs:
            raise UsageError(
                f"Tenant '{slug}' is configured but not registered yet; run 'dpabot tenant add' "
                "with its file, or start 'dpabot serve' once."
            )
        raise no_tenant(slug, configured_slugs)
    return await get_tenant(s, slug)
