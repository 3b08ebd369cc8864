"""Documents: render a template, read a reply, verify a signed PDF."""

from __future__ import annotations

import argparse
import json

from bot.app.cli.common import FAILURE, OK, UsageError, load_roots, show
from bot.app.cli.templates_cmd import know_tenant_templates
from handlers.reader.reader import read_reply
from signing import validate_pdf
from templates import TemplateError, load_manifest, render_pdf


def cmd_render(args: argparse.Namespace) -> int:
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
    try:
        pdf = args.file.read_bytes()
    except OSError as exc:
        raise UsageError(f"The PDF {args.file} cannot be read ({exc}).") from exc
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
    lines.append(
        "Verdict: all signatures valid."
        if report.ok
        else f"Verdict: NOT valid. {data['error'] or ''}".strip()
    )
    show(data, args.json, "\n".join(lines))
    return OK if report.ok else FAILURE
