"""Templates: import a DPA document as a template folder; check a template folder."""

from __future__ import annotations

import argparse

from bot.app.cli.common import OK, UsageError, show
from templates.errors import TemplateError


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

    try:
        report = check_template(args.template)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    show(report, args.json, report_text(report))
    return OK
