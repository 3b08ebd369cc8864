"""Documents: render a template, read a reply, verify a signed PDF."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from bot.app.cli.common import FAILURE, OK, UsageError, load_roots, show
from bot.app.cli.quiet import quiet_validation

if TYPE_CHECKING:
    from signing import ValidationReport

# Each command imports its own library inside it (start-up cost: Typst, the reader and
# pyHanko are each a good part of a second, and each command needs one of them).


def cmd_render(args: argparse.Namespace) -> int:
    from bot.app.cli.templates_cmd import know_tenant_templates
    from templates import TemplateError, render_pdf

    try:
        data = json.loads(args.data.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"The data file {args.data} is not readable JSON ({exc}).") from exc
    know_tenant_templates(args.template, args.config)
    try:
        pdf = render_pdf(args.template, data, draft=args.draft)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    args.output.write_bytes(pdf)
    print(f"Wrote {args.output} ({len(pdf)} bytes).")
    return OK


def cmd_parse_reply(args: argparse.Namespace) -> int:
    from bot.app.cli.templates_cmd import know_tenant_templates
    from handlers.reader.reader import read_reply
    from templates import TemplateError, load_manifest

    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"The mail file {args.file} cannot be read ({exc}).") from exc
    know_tenant_templates(args.template, args.config)
    try:
        load_manifest(args.template)
    except TemplateError as exc:
        raise UsageError(str(exc)) from exc
    reading = read_reply(raw, args.template)
    out = reading.as_json()
    text = "\n".join(
        [f"{k}: {v}" for k, v in reading.fields.items()]
        + [
            f"missing: {', '.join(reading.missing) or '-'}",
            f"invalid: {json.dumps(reading.invalid, ensure_ascii=False)}",
            f"accept: {reading.accept}  decline: {reading.decline}  "
            f"auto_reply: {reading.auto_reply}  bounce: {reading.bounce}  "
            f"language: {reading.language}",
        ]
        + [f"change request: {c['article'] or '-'}: {c['text']}" for c in reading.change_requests]
        + [f"question: {q}" for q in reading.questions]
        + [f"note: {n}" for n in reading.notes]
    )
    show(out, args.json, text)
    return OK


async def cmd_verify(args: argparse.Namespace) -> int:
    from signing.validate import validate_pdf

    try:
        pdf = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"The PDF {args.file} cannot be read ({exc}).") from exc
    with quiet_validation(args.verbose):
        report = await validate_pdf(pdf, load_roots(args.trust))
    data = report.to_dict()
    lines = []
    for s in data["signatures"]:
        lines.append(
            f"{s['field']}: {s['signer_cn']} <{s['signer_email'] or '-'}> "
            f"timestamp {s['timestamp_time']} coverage {s['coverage']} "
            f"modifications {s['modification_level']} AdES {s['ades_status']}"
            f"{'' if s['ok'] else ' — NOT VALID'}\n  certificate sha256 {s['cert_sha256']}"
        )
    for t in data["document_timestamps"]:
        lines.append(f"{t['field']}: document timestamp {t['time']} by {t['tsa_cn']}")
    lines.append(verdict(report, bool(args.trust)))
    show(data, args.json, "\n".join(lines))
    return OK if report.ok else FAILURE


def verdict(report: ValidationReport, roots_given: bool) -> str:
    """One line: valid, or the first reason it is not, in words that say what to do."""
    if report.ok:
        return "Verdict: all signatures valid."
    if report.error:
        return f"Verdict: NOT valid: {report.error}"
    for s in report.signatures:
        if not (s.intact and s.valid):
            return (
                f"Verdict: NOT valid: the signature in {s.field} no longer matches the document "
                "(it was changed after signing)."
            )
    untrusted = [s.field for s in report.signatures if not s.trusted]
    if untrusted and not roots_given:
        return (
            "Verdict: NOT valid: no trust root was given, so no certificate chain is trusted; "
            "pass --trust ROOT.pem (the signers' root certificates)."
        )
    if untrusted:
        return (
            f"Verdict: NOT valid: the certificate chain of {', '.join(untrusted)} reaches none "
            "of the roots given with --trust."
        )
    for s in report.signatures:
        if not s.ok:
            why = s.ades_message or s.ades_subindication or "its long-term validation failed"
            return f"Verdict: NOT valid: {s.field}: {why}."
    return "Verdict: NOT valid."
