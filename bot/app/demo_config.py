"""WORKDIR/dpabot.toml, written by `dpabot demo`: every command can then be tried on the demo's
data (``dpabot --config WORKDIR/dpabot.toml archive search --tenant ibeauty``). It lists every
tenant demoed in that folder (a tenant file each under WORKDIR/tenants/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.core.settings import TenantSettings


def _toml_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


def write_tenant(workdir: Path, t: TenantSettings) -> Path:
    tenant_file = workdir / "tenants" / f"{t.slug}.toml"
    tenant_file.parent.mkdir(parents=True, exist_ok=True)
    keys = ("slug", "name", "template", "representative", "representative_function", "place")
    lines = [f"{k} = {_toml_value(getattr(t, k))}" for k in keys]
    if t.enterprise_number:
        lines.append(f"enterprise_number = {_toml_value(t.enterprise_number)}")
    lines += [
        "",
        "[mail]",
        f"address = {_toml_value(t.mail.address)}",
        f"display_name = {_toml_value(t.mail.display_name)}",
        'transport = "maildir"   # outbox and inbox under data_dir/mail/<slug>/',
        "",
        "[signing]",
        'mode = "dev"   # the development PKI under data_dir/pki (not trusted outside dpabot)',
    ]
    tenant_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tenant_file


def write_config(workdir: Path, tenant: TenantSettings) -> Path:
    """The tenant's file, then WORKDIR/dpabot.toml naming every tenant file in the folder."""
    write_tenant(workdir, tenant)
    files = sorted(p.name for p in (workdir / "tenants").glob("*.toml"))
    listed = ", ".join(_toml_value(f"tenants/{name}") for name in files)
    config = workdir / "dpabot.toml"
    config.write_text(
        "# Written by `dpabot demo`: the demo's embedded database, mail folders and archive.\n"
        "# The embedded PostgreSQL keeps running for the next commands; "
        "`dpabot db stop --config THIS_FILE` ends it.\n"
        'data_dir = "."\n'
        f"tenants = [{listed}]\n",
        encoding="utf-8",
    )
    return config
