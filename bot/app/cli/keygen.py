"""`dpabot tenant keygen` (a tenant's signing key and customer CA as files, and what to do next)
and `tenant install-cert` (the certificate a CA issued for that key, put with it)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from bot.app.cli.common import OK, UsageError
from bot.core import redact
from bot.errors import DpabotError
from signing.keygen import KeyFiles, fingerprint, make_tenant_keys

MIN_PASSPHRASE = 8

_WHAT = {
    "signer.p12": "the processor's signing key and its certificate (secret; passphrase-protected)",
    "signer.pem": "that certificate: whoever checks your signed contracts must trust it",
    "signer.csr": "a certificate request for that key: give it to a CA whose roots others trust",
    "customer-ca.p12": "the customer CA: issues each accepting customer a one-day certificate "
    "(secret; passphrase-protected)",
    "customer-ca.pem": "the customer CA's certificate: the root of every customer signature",
    "customer-ca.crl": "the customer CA's revocation list (empty: it never revokes); publish it "
    "at the CRL URL",
}


def keygen(args: argparse.Namespace) -> int:
    directory: Path = args.dir.resolve()
    suffixes = ["signer.p12", "signer.pem"] + (["signer.csr"] if args.csr else [])
    suffixes += ["customer-ca.p12", "customer-ca.pem", "customer-ca.crl"]
    targets = {s: directory / f"{args.slug}-{s}" for s in suffixes}
    there = [str(p) for p in targets.values() if p.exists()]
    if there:
        raise UsageError(
            f"{there[0]} already exists; keygen never overwrites keys: move the old files away "
            "or choose another --dir."
        )
    passphrase = _passphrase(args.passphrase_env, args.passphrase_file, "key files")
    ca_passphrase = (
        _passphrase(args.ca_passphrase_env, args.ca_passphrase_file, "customer CA")
        if args.ca_passphrase_env or args.ca_passphrase_file
        else passphrase
    )
    keys = make_tenant_keys(
        name=args.name,
        email=args.email,
        passphrase=passphrase.encode(),
        ca_passphrase=ca_passphrase.encode(),
        key_type=args.key,
        csr=args.csr,
    )
    _write(directory, targets, keys)
    print(_summary(args, targets, keys))
    return OK


def _passphrase(env: str | None, file: Path | None, what: str, *, ask_twice: bool = True) -> str:
    """From the environment, a file, or asked twice on a terminal; never printed."""
    if env:
        value = os.environ.get(env)
        if value is None:
            raise UsageError(f"The environment variable {env} (the passphrase) is not set.")
    elif file:
        try:
            value = file.read_text().strip()
        except OSError as exc:
            raise UsageError(
                f"The passphrase file {file} cannot be read ({exc.strerror})."
            ) from exc
    elif sys.stdin.isatty():
        value = getpass.getpass(f"Passphrase for the {what}: ")
        if ask_twice and getpass.getpass("The same passphrase again: ") != value:
            raise UsageError("The two passphrases differ; nothing was written.")
    else:
        raise UsageError(
            "The key files need a passphrase and there is no terminal to ask on; pass "
            "--passphrase-env VAR or --passphrase-file FILE."
        )
    if len(value) < MIN_PASSPHRASE:
        raise UsageError(f"The passphrase must have at least {MIN_PASSPHRASE} characters.")
    return redact.register(value)


def _write(directory: Path, targets: dict[str, Path], keys: KeyFiles) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        written: list[Path] = []
        for suffix, path in targets.items():
            # O_EXCL: a file made meanwhile is not overwritten; 0600: readable by the owner only.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            written.append(path)
            with os.fdopen(fd, "wb") as out:
                out.write(keys.files[suffix])
    except OSError as exc:
        for path in written:
            path.unlink(missing_ok=True)
        raise UsageError(
            f"The key files cannot be written in {directory} ({exc.strerror}); nothing was kept."
        ) from exc


def _ref(env: str | None, file: Path | None, fallback: str) -> str:
    if env:
        return f'{{ env = "{env}" }}'
    if file:
        return f'{{ file = "{file.resolve()}" }}'
    return f'{{ env = "{fallback}" }}  # set it to the passphrase you typed'


def _summary(args: argparse.Namespace, targets: dict[str, Path], keys: KeyFiles) -> str:
    width = max(len(p.name) for p in targets.values())
    lines = [f"Wrote in {args.dir.resolve()} (each file readable by you only):"]
    lines += [f"  {p.name:<{width}}  {_WHAT[s]}" for s, p in targets.items()]
    signer, ca = targets["signer.pem"].name, targets["customer-ca.pem"].name
    lines += [
        "",
        "Who must trust what:",
        f"  - dpabot: {signer} and {ca} (trust_roots below): it checks every signature",
        "    against them.",
        "  - Whoever verifies a signed contract (customers, auditors, Acrobat, pdfsig,",
        "    dpabot verify --trust): both PEMs. They are made here, so nobody trusts",
        "    them until told to: hand them over with the fingerprints below.",
    ]
    if args.csr:
        lines += [
            "  - Have a CA whose roots they already trust certify the request (.csr);",
            "    then only the customer CA's PEM must be handed over.",
        ]
    lines += [
        "  - The customer CA's CRL must be reachable at the CRL URL by whoever verifies.",
        "",
        "SHA-256 fingerprints:",
    ]
    assert keys.signer_cert is not None and keys.ca_cert is not None
    lines += [
        f"  {signer:<{width}}  {fingerprint(keys.signer_cert)}",
        f"  {ca:<{width}}  {fingerprint(keys.ca_cert)}",
    ]
    var = f"DPABOT_{args.slug.upper().replace('-', '_')}"
    crl = (
        f'"{args.crl_url}"'
        if args.crl_url
        else f'"https://example.invalid/{targets["customer-ca.crl"].name}"  # where you publish it'
    )
    ca_ref = (
        _ref(args.ca_passphrase_env, args.ca_passphrase_file, f"{var}_CA_PASSPHRASE")
        if args.ca_passphrase_env or args.ca_passphrase_file
        else _ref(args.passphrase_env, args.passphrase_file, f"{var}_PASSPHRASE")
    )
    lines += [
        "",
        "For the tenant's file (passphrases by reference only):",
        "[signing]",
        'mode = "pkcs12"',
        f'pkcs12_file = "{targets["signer.p12"]}"',
        f"passphrase = {_ref(args.passphrase_env, args.passphrase_file, f'{var}_PASSPHRASE')}",
        f'customer_ca_pkcs12 = "{targets["customer-ca.p12"]}"',
        f"customer_ca_passphrase = {ca_ref}",
        f"customer_ca_crl_url = {crl}",
        'tsa_url = "TSA-URL"  # your RFC 3161 timestamp authority',
        f'trust_roots = ["{targets["signer.pem"]}", "{targets["customer-ca.pem"]}", '
        '"TSA-ROOT.pem"]  # and the root certificate of your TSA',
        "",
        f"Then: dpabot tenant check {args.slug}",
    ]
    return "\n".join(lines)


def install_cert(args: argparse.Namespace) -> int:
    """Put the certificate a CA issued for the key into the PKCS#12 file; the old file stays
    beside it as FILE.self-signed."""
    from signing.keyfiles import open_pkcs12
    from signing.keygen import with_certificate

    p12: Path = args.p12
    kept = p12.with_name(p12.name + ".self-signed")
    if kept.exists():
        raise UsageError(f"{kept} already exists; move it away first (nothing was changed).")
    passphrase = _passphrase(args.passphrase_env, args.passphrase_file, "key file", ask_twice=False)
    cert_pem = _read(args.cert, "certificate")
    chain_pem = _read(args.chain, "chain") if args.chain else b""
    try:
        key, _, _ = open_pkcs12(p12, passphrase.encode(), "signing key")
        data, cert = with_certificate(key, cert_pem, chain_pem, passphrase.encode(), label=p12.stem)
    except DpabotError as exc:
        raise UsageError(str(exc)) from exc
    new = p12.with_name(p12.name + ".new")
    try:
        fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.link(p12, kept)  # the old file kept under its new name, then replaced
        os.replace(new, p12)
    except OSError as exc:
        new.unlink(missing_ok=True)
        raise UsageError(
            f"{p12} cannot be replaced ({exc.strerror}); nothing was changed."
        ) from exc
    print(
        f"{p12} now holds the certificate of {cert.subject.rfc4514_string()} issued by "
        f"{cert.issuer.rfc4514_string()} (SHA-256 {fingerprint(cert)}); the self-signed one is "
        f"kept as {kept}. Put the issuer's root in 'signing.trust_roots' and run "
        "dpabot tenant check."
    )
    return OK


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"The {what} file {path} cannot be read ({exc.strerror}).") from exc
