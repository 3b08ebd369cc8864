"""Tenants' own template folders (`templates_dir`): registered by id at start, and each
tenant's template checked: a packaged one or one of its own folder, never another tenant's."""

from __future__ import annotations

from bot.core.settings import TenantSettings
from bot.errors import ConfigError
from templates import registry
from templates.errors import TemplateError


def register_tenant_templates(tenants: list[TenantSettings]) -> None:
    """Register every tenant's folder; refuse a tenant whose template it may not use."""
    own: dict[str, set[str]] = {}
    for t in tenants:
        if t.templates_dir is None:
            own[t.slug] = set()
            continue
        try:
            own[t.slug] = set(registry.register_folder(t.templates_dir))
        except TemplateError as exc:
            raise ConfigError(f"Tenant {t.slug}: {exc}") from exc
    packaged = set(registry.packaged_ids())
    for t in tenants:
        if t.template in packaged or t.template in own[t.slug]:
            continue
        others = [slug for slug, ids in own.items() if t.template in ids]
        if others:
            raise ConfigError(
                f"Tenant {t.slug} names the template '{t.template}' of tenant {others[0]}; "
                f"a tenant may use packaged templates or those in its own templates_dir."
            )
        where = f" or in {t.templates_dir}" if t.templates_dir else ""
        raise ConfigError(
            f"Tenant {t.slug} names the template '{t.template}', which is not packaged{where}."
        )
