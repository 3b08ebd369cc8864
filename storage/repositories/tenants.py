"""Tenant rows: found by slug (the session then acts for that tenant), created on first start."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage import scope
from storage.errors import NotFound
from storage.models import Tenant


async def _tenant_row(session: AsyncSession, slug: str) -> Tenant:
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"There is no tenant '{slug}'; add it with 'dpabot tenant add FILE.toml'.")
    return tenant


async def get_tenant(session: AsyncSession, slug: str) -> Tenant:
    """The tenant named by its slug; the session then acts for it (row-level security)."""
    tenant = await _tenant_row(session, slug)
    scope.bind(session, [tenant.id])
    return tenant


async def bind_all_tenants(session: AsyncSession) -> None:
    """Let an operator's command look across every tenant of this database (by an id that is
    unique across tenants, such as an archive id); the service itself never does."""
    scope.bind(session, (await session.scalars(select(Tenant.id))).all())


async def ensure_tenant(session: AsyncSession, slug: str, name: str) -> Tenant:
    """The tenant row for a configured tenant, created on first start."""
    await session.execute(
        insert(Tenant).values(slug=slug, name=name).on_conflict_do_nothing(index_elements=["slug"])
    )
    tenant = await _tenant_row(session, slug)
    if tenant.name != name:
        tenant.name = name
    return tenant
