"""Which tenant a command names: one sentence and exit 2 for a tenant that is not there."""

from __future__ import annotations

from collections.abc import Iterable

from bot.app.cli.common import UsageError
from bot.core.settings import ServiceSettings, TenantSettings, load_tenant


def no_tenant(slug: str, known: Iterable[str]) -> UsageError:
    """The one error for an unknown tenant, whatever the command."""
    names = sorted(known)
    listed = f"known: {', '.join(names)}" if names else "none is configured"
    return UsageError(
        f"There is no tenant '{slug}' in this configuration ({listed}); a tenant's file must be "
        "listed in 'tenants' in dpabot.toml."
    )


def configured(settings: ServiceSettings, slug: str) -> TenantSettings:
    """The configured tenant of that slug."""
    tenants = [load_tenant(p) for p in settings.tenants]
    for tenant in tenants:
        if tenant.slug == slug:
            return tenant
    raise no_tenant(slug, (t.slug for t in tenants))
