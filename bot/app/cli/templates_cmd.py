"""Templates: import a DPA document as a template folder; check a template folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.app.cli.common import OK, UsageError, service_settings, show, tenants_of
from bot.core.tenant_templates import register_tenant_templates
from templates import registry
from templates.errors import TemplateError


def know_tenant_templates(ref: str, config: Path | None) -> None:
    """An id that is not packaged may be in a tenant's templates_dir: register the configured
    tenants' folders (from --config, or ./dpabot.toml when there is one)."""
    if not registry.is_id(ref) or ref in registry.packaged_ids():
        return
    if config is None and not Path("dpabot.toml").exists():
        return
    register_tenant_templates(tenants_of(service_settings(config)))


def cmd_template_import(args: argparse.Namespace) -> int:
    from templates.importer import check_template, import_document
    from templates.importer.check import report_text

    try:
        folder = import_document(args.file, args.id, args.dir)
        report = check_template(str(folder))
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    print(f"Wrote {folder}.")
    print(report_text(report))
    return OK


def cmd_template_check(args: argparse.Namespace) -> int:
    from templates.importer import check_template
    from templates.importer.check import report_text

    know_tenant_templates(args.template, args.config)
    try:
        report = check_template(args.template)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    show(report, args.json, report_text(report))
    return OK
