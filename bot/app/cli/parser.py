"""The `dpabot` argument parser: every command, its arguments, and the function that runs it."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.app.cli.common import date_arg


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dpabot", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", required=True)

    def cfg(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--config", type=Path, help="dpabot.toml (default: ./dpabot.toml)")

    d = sub.add_parser("demo", help="run the whole chain on embedded defaults")
    d.add_argument("--workdir", type=Path)
    d.add_argument("--json", action="store_true")
    d.set_defaults(run="service:cmd_demo")

    s = sub.add_parser("serve", help="listeners and workers in one process")
    cfg(s)
    s.add_argument("--concurrency", type=int, default=2)
    s.set_defaults(run="service:cmd_serve")
    w = sub.add_parser("worker", help="a worker process for the job queue")
    cfg(w)
    w.add_argument("--concurrency", type=int, default=2)
    w.set_defaults(run="service:cmd_worker")

    db = sub.add_parser("db", help="database")
    dbs = db.add_subparsers(dest="db_command", required=True)
    up = dbs.add_parser("upgrade", help="apply migrations")
    cfg(up)
    up.set_defaults(run="service:cmd_db_upgrade")

    t = sub.add_parser("tenant", help="tenants")
    ts = t.add_subparsers(dest="tenant_command", required=True)
    ta = ts.add_parser("add")
    cfg(ta)
    ta.add_argument("file", type=Path)
    ta.set_defaults(run="service:cmd_tenant_add")
    tl = ts.add_parser("list")
    cfg(tl)
    tl.add_argument("--json", action="store_true")
    tl.set_defaults(run="service:cmd_tenant_list")

    r = sub.add_parser("render", help="template + field values → PDF")
    r.add_argument("--template", required=True)
    r.add_argument("--data", type=Path, required=True)
    r.add_argument("-o", "--output", type=Path, required=True)
    r.add_argument("--draft", action="store_true")
    cfg(r)  # to find a template of a tenant's templates_dir by id
    r.set_defaults(run="documents:cmd_render")

    tp = sub.add_parser("template", help="import a DPA as a template folder; check one")
    tps = tp.add_subparsers(dest="template_command", required=True)
    ti = tps.add_parser("import", help="a DPA (.docx, .pdf, .txt, .md) → template folder DIR/ID/")
    ti.add_argument("file", type=Path)
    ti.add_argument("--id", required=True)
    ti.add_argument("--dir", type=Path, default=Path("."))
    ti.set_defaults(run="templates_cmd:cmd_template_import")
    tc = tps.add_parser("check", help="fields, questions, draft and final, source coverage")
    tc.add_argument("template", help="a template folder's path or a template id")
    tc.add_argument("--json", action="store_true")
    cfg(tc)
    tc.set_defaults(run="templates_cmd:cmd_template_check")

    pr = sub.add_parser("parse-reply", help="what dpabot reads in a reply")
    pr.add_argument("file", type=Path)
    pr.add_argument("--template", required=True)
    pr.add_argument("--json", action="store_true")
    cfg(pr)
    pr.set_defaults(run="documents:cmd_parse_reply")

    v = sub.add_parser("verify", help="signature report of a PDF")
    v.add_argument("file", type=Path)
    v.add_argument("--trust", type=Path, action="append", default=[])
    v.add_argument("--json", action="store_true")
    v.set_defaults(run="documents:cmd_verify")

    a = sub.add_parser("archive", help="signed contracts")
    asub = a.add_subparsers(dest="archive_command", required=True)
    se = asub.add_parser("search")
    cfg(se)
    se.add_argument("query", nargs="?", default="", help="name, email, number or id (default: all)")
    se.add_argument("--tenant", required=True)
    se.add_argument("--state", help="contract state, e.g. completed")
    se.add_argument("--from", dest="date_from", type=date_arg, help="archived on or after (date)")
    se.add_argument("--to", dest="date_to", type=date_arg, help="archived on or before (date)")
    se.add_argument("--json", action="store_true")
    se.set_defaults(run="archive:cmd_archive_search")
    g = asub.add_parser("get")
    cfg(g)
    g.add_argument("id")
    g.add_argument("-o", "--output", type=Path, required=True)
    g.add_argument("--tenant")
    g.set_defaults(run="archive:cmd_archive_get")
    ve = asub.add_parser("verify", help="recheck files, hashes, timestamps and signatures")
    cfg(ve)
    ve.add_argument("id", nargs="?")
    ve.add_argument("--all", action="store_true")
    ve.add_argument("--tenant", required=True)
    ve.add_argument("--trust", type=Path, action="append", default=[])
    ve.add_argument("--json", action="store_true")
    ve.set_defaults(run="archive:cmd_archive_verify")
    ex = asub.add_parser("export", help="zip of a tenant's archive with SHA256SUMS")
    cfg(ex)
    ex.add_argument("--tenant", required=True)
    ex.add_argument("-o", "--output", type=Path, required=True)
    ex.set_defaults(run="archive:cmd_archive_export")

    au = sub.add_parser("audit", help="a tenant's audit log")
    cfg(au)
    au.add_argument("--tenant", required=True)
    au.add_argument("--verify", action="store_true", help="check the chain and its anchor")
    au.add_argument("--json", action="store_true")
    au.set_defaults(run="archive:cmd_audit")

    cu = sub.add_parser("customers", help="customers")
    cus = cu.add_subparsers(dest="customers_command", required=True)
    er = cus.add_parser("erase", help="erase a customer's personal data (what the law allows)")
    cfg(er)
    er.add_argument("--tenant", required=True)
    er.add_argument("--email", required=True)
    er.add_argument("--json", action="store_true")
    er.set_defaults(run="customers:cmd_customers_erase")
    im = cus.add_parser("import", help="import a customer list (CSV or XLSX): all rows or none")
    cfg(im)
    im.add_argument("--tenant", required=True)
    im.add_argument("file", type=Path, help="FILE.csv or FILE.xlsx")
    im.set_defaults(run="customers:cmd_customers_import")

    sn = sub.add_parser("send", help="invite customers: a contract and the mail with its draft")
    cfg(sn)
    sn.add_argument("--tenant", required=True)
    who = sn.add_mutually_exclusive_group(required=True)
    who.add_argument("--all", action="store_true", help="every customer not invited yet")
    who.add_argument(
        "--customer", type=int, nargs="+", action="extend", metavar="ID", help="customer ids"
    )
    sn.add_argument("--yes", action="store_true", help="send without asking for confirmation")
    sn.set_defaults(run="customers:cmd_send")

    co = sub.add_parser("contracts", help="contracts")
    cos = co.add_subparsers(dest="contracts_command", required=True)
    cs = cos.add_parser(
        "confirm-signer",
        help="accept a returned signed PDF whose certificate names someone else (staff check)",
    )
    cfg(cs)
    cs.add_argument("--tenant", required=True)
    cs.add_argument("message", type=int, help="the message id named in the staff notice")
    cs.set_defaults(run="contracts:cmd_contracts_confirm_signer")
    sh = cos.add_parser("show", help="a contract: state, version, fields, signatures, mails")
    cfg(sh)
    sh.add_argument("id", type=int)
    sh.add_argument("--tenant", help="the contract's tenant (default: any configured tenant)")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(run="contracts:cmd_contracts_show")

    ma = sub.add_parser("mail", help="mail")
    mas = ma.add_subparsers(dest="mail_command", required=True)
    ing = mas.add_parser("ingest", help="run one raw mail through the listener's pipeline")
    cfg(ing)
    ing.add_argument("--tenant", required=True)
    ing.add_argument("file", type=Path, help="FILE.eml")
    ing.add_argument("--json", action="store_true")
    ing.set_defaults(run="contracts:cmd_mail_ingest")
    return p
