"""`dpabot tenant keygen`, `tenant check` and `tenant add` against real servers: the dev PKI's
TSA, Dovecot, aiosmtpd with STARTTLS and AUTH, the Bot API stand-in, PostgreSQL, pdfsig."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import http.server
import json
import os
import socket
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.core.tenant_signing import load_cert
from signing import CustomerCA, DevPKI, certify_processor, make_lta
from signing.keyfiles import open_pkcs12
from signing.keys import load_pkcs12_signer
from templates import render_pdf
from tests.fixtures.pki import nss_db, pdfsig_signatures

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "correct horse battery"
EXAMPLE = ROOT / "templates" / "documents" / "ibeauty" / "example-000.json"


async def dpabot(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run the CLI as a user would, without blocking the loop the stand-in servers run on."""
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full.pop("DPABOT_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.app.cli",
        *args,
        env=full,
        stdin=asyncio.subprocess.DEVNULL,  # no terminal, as in a script
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 300)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def keygen(keys: Path, slug: str = "acme") -> tuple[int, str, str]:
    return await dpabot(
        "tenant", "keygen", "--slug", slug, "--name", "Acme NV", "--email", "dpa@acme.example",
        "--dir", str(keys), "--passphrase-env", "ACME_PW", "--crl-url", "http://127.0.0.1:9/x.crl",
        env={"ACME_PW": PASSPHRASE},
    )  # fmt: skip


@pytest.fixture(scope="module")
async def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys") / "keys"
    code, _, err = await keygen(folder)
    assert code == 0, err
    return folder


async def test_keygen_files_sign_and_validate_only_with_their_root(
    keys: Path, dev_pki: DevPKI, tmp_path: Path
) -> None:
    names = sorted(p.name for p in keys.iterdir())
    assert names == [
        "acme-customer-ca.crl", "acme-customer-ca.p12", "acme-customer-ca.pem",
        "acme-signer.p12", "acme-signer.pem",
    ]  # fmt: skip
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys.iterdir())

    # The processor's key certifies a contract (PAdES B-T with a real TSA) ...
    signer = load_pkcs12_signer(keys / "acme-signer.p12", PASSPHRASE.encode())
    pdf = render_pdf("ibeauty", json.loads(EXAMPLE.read_text()), draft=False)
    signed = tmp_path / "signed.pdf"
    certified = await certify_processor(pdf, signer, dev_pki.tsa_url, reason="test")
    roots = [load_cert(keys / "acme-signer.pem"), dev_pki.root_cert]
    signed.write_bytes(await make_lta(certified, roots, dev_pki.tsa_url))  # as the archive does
    tsa_root = str(dev_pki.root_cert_path)
    # ... that validates with its own PEM as the root, and not without it.
    code, out, err = await dpabot(
        "verify", str(signed), "--trust", str(keys / "acme-signer.pem"), "--trust", tsa_root
    )
    assert code == 0 and "Verdict: all signatures valid." in out, out + err
    code, out, err = await dpabot("verify", str(signed), "--trust", tsa_root)
    assert (code, err) == (1, "")
    assert out.splitlines()[-1] == (
        "Verdict: NOT valid: the certificate chain of Processor reaches none of the roots "
        "given with --trust."
    )
    # An independent validator (poppler/NSS) trusts it once told to trust the PEM.
    (tmp_path / "nss").mkdir()
    nssdir = nss_db(keys / "acme-signer.pem", tmp_path / "nss")
    sigs = pdfsig_signatures(signed, nssdir)
    assert sigs[0]["Signature Validation"] == "Signature is Valid.", sigs
    assert sigs[0]["Certificate Validation"] == "Certificate is Trusted.", sigs

    # The customer CA issues a one-time certificate that it signed.
    ca = CustomerCA.from_pkcs12(
        keys / "acme-customer-ca.p12", PASSPHRASE.encode(), crl_url="http://127.0.0.1:9/x.crl"
    )
    one_time = ca.issue_one_time("Karolien Piskor", "MOOI", "karolien@mooi.example").signing_cert
    assert one_time is not None
    ca_pem = x509.load_pem_x509_certificate((keys / "acme-customer-ca.pem").read_bytes())
    issued = x509.load_der_x509_certificate(one_time.dump())
    issued.verify_directly_issued_by(ca_pem)
    # Its CRL is empty, signed by the CA, valid as long as the CA.
    crl = x509.load_der_x509_crl((keys / "acme-customer-ca.crl").read_bytes())
    assert len(crl) == 0 and crl.is_signature_valid(ca_pem.public_key())
    assert crl.next_update_utc == ca_pem.not_valid_after_utc


async def test_keygen_never_overwrites_nor_prints_the_passphrase(keys: Path, tmp_path: Path):
    before = {p.name: p.read_bytes() for p in keys.iterdir()}
    code, out, err = await keygen(keys)
    assert code == 2 and out == ""
    assert err == (
        f"dpabot: {keys / 'acme-signer.p12'} already exists; keygen never overwrites keys: "
        "move the old files away or choose another --dir.\n"
    )
    assert {p.name: p.read_bytes() for p in keys.iterdir()} == before
    code, out, err = await keygen(tmp_path / "other", slug="beta")
    assert code == 0 and PASSPHRASE not in out + err
    assert '[signing]\nmode = "pkcs12"' in out and 'passphrase = { env = "ACME_PW" }' in out
    assert "Who must trust what:" in out and "SHA-256 fingerprints:" in out


async def test_keygen_without_a_passphrase_and_no_terminal_refuses(tmp_path: Path):
    code, out, err = await dpabot(
        "tenant", "keygen", "--slug", "acme", "--name", "Acme NV", "--email", "dpa@acme.example",
        "--dir", str(tmp_path / "k"),
    )  # fmt: skip
    assert (code, out) == (2, "")
    assert err == (
        "dpabot: The key files need a passphrase and there is no terminal to ask on; pass "
        "--passphrase-env VAR or --passphrase-file FILE.\n"
    )
    assert not (tmp_path / "k").exists()


class Site:
    """A dpabot.toml with one tenant whose [signing], [mail] and [telegram] the test writes."""

    def __init__(self, root: Path, database_url: str, base_url: str) -> None:
        self.root, self.database_url = root, database_url
        self.config = root / "dpabot.toml"
        self.tenant = root / "acme.toml"
        self.config.write_text(
            f'data_dir = "{root / "var"}"\ndatabase_url = "{database_url}"\n'
            f'tenants = ["{self.tenant}"]\n[telegram]\nbase_url = "{base_url}"\n'
        )

    def write(self, slug: str, signing: str, mail: str, telegram: str) -> None:
        self.tenant.write_text(
            f'slug = "{slug}"\nname = "Acme NV"\ntemplate = "ibeauty"\n'
            f'representative = "Ann Acme"\n{mail}\n{signing}\n{telegram}\n'
        )

    async def run(self, *args: str, **env: str) -> tuple[int, str, str]:
        return await dpabot(*args, "--config", str(self.config), env=env)


def signing(
    keys: Path, tsa: str, crl: str, *, key: str = "acme-signer.p12", tsa_root: Path | None = None
) -> str:
    roots = [keys / "acme-signer.pem", keys / "acme-customer-ca.pem"]
    roots += [tsa_root] if tsa_root else []
    return (
        f'[signing]\nmode = "pkcs12"\npkcs12_file = "{keys / key}"\n'
        'passphrase = { env = "ACME_PW" }\n'
        f'customer_ca_pkcs12 = "{keys / "acme-customer-ca.p12"}"\n'
        'customer_ca_passphrase = { env = "ACME_CA_PW" }\n'
        f'customer_ca_crl_url = "{crl}"\n'
        f'tsa_url = "{tsa}"\n'
        f"trust_roots = {json.dumps([str(r) for r in roots])}\n"
    )


@pytest.fixture(scope="module")
def crl_url(keys: Path) -> Iterator[str]:
    """The customer CA's CRL published over HTTP, as `customer_ca_crl_url` expects."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(keys))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/acme-customer-ca.crl"
    finally:
        server.shutdown()
        server.server_close()


def mail(imap_port: int, smtp_port: int, cafile: Path, user: str, smtp_user: str) -> str:
    return (
        '[mail]\naddress = "dpa@acme.example"\ntransport = "imap"\n'
        f'[mail.imap]\nhost = "127.0.0.1"\nport = {imap_port}\nusername = "{user}"\n'
        'password = { env = "IMAP_PW" }\nssl = false\n'
        f'[mail.smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nusername = "{smtp_user}"\n'
        f'password = {{ env = "SMTP_PW" }}\nstarttls = true\nca_file = "{cafile}"\n'
    )


TELEGRAM = (
    '[telegram]\ntoken = { env = "BOT_TOKEN" }\nbot_username = "dpabot123456_bot"\n'
    '[[telegram.staff]]\nuser_id = 1\nname = "Ann"\n'
)
TOKEN = "123456:" + "A" * 35


@pytest.fixture
def site(tmp_path: Path, database_url: str, botapi) -> Site:  # type: ignore[no-untyped-def]
    os.chmod(tmp_path, 0o755)
    return Site(tmp_path, database_url, botapi.base_url)


@pytest.fixture
def cafile(smtpd, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "smtpd.pem"
    path.write_bytes(smtpd.cert_pem)
    return path


def good_env(dovecot, smtpd) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "ACME_PW": PASSPHRASE,
        "ACME_CA_PW": PASSPHRASE,
        "IMAP_PW": dovecot.password,
        "SMTP_PW": smtpd.password,
        "BOT_TOKEN": TOKEN,
    }


async def test_tenant_check_all_ok_then_json(  # type: ignore[no-untyped-def]
    site, keys, crl_url, dev_pki, dovecot, smtpd, cafile, botapi
):
    site.write(
        "acme",
        signing(keys, dev_pki.tsa_url, crl_url, tsa_root=dev_pki.root_cert_path),
        mail(dovecot.port, smtpd.port, cafile, dovecot.user, smtpd.username),
        TELEGRAM,
    )
    code, out, err = await site.run("tenant", "check", "acme", **good_env(dovecot, smtpd))
    assert (code, err) == (0, ""), out + err
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok     trust roots",
        "ok     signing key",
        "ok     customer CA",
        f"ok     TSA {dev_pki.tsa_url.split(':')[0]}",
        f"ok     IMAP {dovecot.user}@127.0.0.1",
        "ok     SMTP 127.0.0.1",
        "ok     Telegram",
    ]
    assert "@dpabot123456_bot" in lines[-1]
    assert lines[2].endswith(f"its CRL is served at {crl_url}")
    assert lines[3].endswith("which chains to the trust roots")
    code, out, err = await site.run("tenant", "check", "acme", "--json", **good_env(dovecot, smtpd))
    assert code == 0 and all(c["ok"] for c in json.loads(out))


async def test_tenant_check_names_each_failure_on_its_own_line(  # type: ignore[no-untyped-def]
    site, keys, crl_url, dev_pki, dovecot, smtpd, cafile, botapi
):
    site.write(
        "acme",
        signing(keys, f"http://127.0.0.1:{dead_port()}/tsa", crl_url),
        mail(dovecot.port, smtpd.port, cafile, dovecot.user, smtpd.username),
        TELEGRAM,
    )
    botapi.fail_next("getMe", 1, code=401)
    env = {
        **good_env(dovecot, smtpd),
        "ACME_PW": "not the passphrase",
        "IMAP_PW": "wrong",
        "SMTP_PW": "wrong",
    }
    env.pop("ACME_CA_PW")
    code, out, err = await site.run("tenant", "check", "acme", **env)
    assert code == 1 and err == "", err
    failed = {line[7:].split(":")[0]: line for line in out.splitlines() if line.startswith("FAIL")}
    p12 = keys / "acme-signer.p12"
    assert failed["signing key"].endswith(f"The passphrase of the signing key file {p12} is wrong.")
    assert (
        "The environment variable ACME_CA_PW (the customer CA passphrase) is not set"
        in (failed["customer CA"])
    )
    assert "The TSA cannot be reached" in next(v for k, v in failed.items() if "TSA" in k)
    assert "refused the login" in next(v for k, v in failed.items() if k.startswith("IMAP"))
    assert "refused the login" in next(v for k, v in failed.items() if k.startswith("SMTP"))
    assert failed["Telegram"].endswith(
        "The Bot API refused the token (401); check [telegram] token."
    )
    assert "Traceback" not in out and PASSPHRASE not in out

    # A missing key file, dead servers, an unpublished CRL, a TSA whose root is not trusted.
    dead_crl = f"http://127.0.0.1:{dead_port()}/x.crl"
    site.write(
        "acme",
        signing(keys, dev_pki.tsa_url, dead_crl, key="gone.p12"),
        mail(dead_port(), dead_port(), cafile, dovecot.user, smtpd.username),
        TELEGRAM,
    )
    site.config.write_text(
        site.config.read_text().replace(botapi.base_url, f"http://127.0.0.1:{dead_port()}/bot")
    )
    code, out, err = await site.run("tenant", "check", "acme", **good_env(dovecot, smtpd))
    assert code == 1 and err == "", err
    lines = out.splitlines()
    assert f"FAILED signing key: The signing key file {keys / 'gone.p12'} does not exist." in lines
    # key, customer CA (its CRL), TSA (its chain), IMAP, SMTP, Telegram
    assert sum(line.startswith("FAILED") for line in lines) == 6, out
    assert (
        f"FAILED customer CA: The CRL URL {dead_crl} cannot be reached (ClientConnectorError); "
        "customers' signatures cannot be archived (B-LTA) until it is; publish the .crl that "
        "dpabot tenant keygen wrote there." in lines
    ), out
    tsa_line = next(line for line in lines if line.startswith("FAILED TSA"))
    assert (
        "dpabot DEV TSA" in tsa_line
        and "does not chain to any of 'signing.trust_roots'" in tsa_line
    )
    assert "FAILED Telegram: The Bot API cannot be reached (ConnectError)." in lines


async def test_tenant_add_refuses_a_tenant_that_cannot_sign(  # type: ignore[no-untyped-def]
    site, keys, crl_url, dev_pki, dovecot, smtpd, cafile, botapi
):
    site.write(
        "acme-gone",
        signing(keys, dev_pki.tsa_url, crl_url, key="gone.p12", tsa_root=dev_pki.root_cert_path),
        mail(dovecot.port, smtpd.port, cafile, dovecot.user, smtpd.username),
        TELEGRAM,
    )
    code, out, err = await site.run("tenant", "add", str(site.tenant), **good_env(dovecot, smtpd))
    assert code == 1
    assert "FAILED signing key: The signing key file" in out
    assert err.startswith("Tenant acme-gone was not registered: it cannot sign.")
    with psycopg.connect(site.database_url) as conn:
        assert conn.execute("SELECT 1 FROM tenants WHERE slug = 'acme-gone'").fetchall() == []

    # Signing works, the Telegram token does not: registered, the failure told.
    site.write(
        "acme-ok",
        signing(keys, dev_pki.tsa_url, crl_url, tsa_root=dev_pki.root_cert_path),
        mail(dovecot.port, smtpd.port, cafile, dovecot.user, smtpd.username),
        TELEGRAM,
    )
    botapi.fail_next("getMe", 1, code=401)
    code, out, err = await site.run("tenant", "add", str(site.tenant), **good_env(dovecot, smtpd))
    assert code == 0, out + err
    # Its file is listed in dpabot.toml already: no advice to list it.
    assert "Tenant acme-ok (Acme NV) is registered as id" in out
    assert "the service loads it from dpabot.toml" in out and "to 'tenants'" not in out
    assert "It can sign, but Telegram failed" in err
    with psycopg.connect(site.database_url) as conn:
        assert conn.execute("SELECT 1 FROM tenants WHERE slug = 'acme-ok'").fetchall() == [(1,)]


def _ca(tmp: Path) -> tuple[Any, x509.Certificate, Path]:
    """A small CA of the test's own, as a commercial CA would be: key, certificate, PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Qualified CA")])
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = tmp / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def _issue(ca_key: Any, ca_cert: x509.Certificate, csr: x509.CertificateSigningRequest) -> bytes:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca_cert.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=300))
    )
    for ext in csr.extensions:
        builder = builder.add_extension(ext.value, critical=ext.critical)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


async def test_install_cert_puts_the_cas_certificate_with_the_key(tmp_path: Path):
    keys = tmp_path / "keys"
    code, _, err = await dpabot(
        "tenant", "keygen", "--slug", "acme", "--name", "Acme NV", "--email", "dpa@acme.example",
        "--dir", str(keys), "--csr", "--passphrase-env", "ACME_PW", env={"ACME_PW": PASSPHRASE},
    )  # fmt: skip
    assert code == 0, err
    csr = x509.load_pem_x509_csr((keys / "acme-signer.csr").read_bytes())
    ca_key, ca_cert, ca_pem = _ca(tmp_path)
    issued = tmp_path / "issued.pem"
    issued.write_bytes(_issue(ca_key, ca_cert, csr))
    p12 = keys / "acme-signer.p12"
    before = p12.read_bytes()

    # A certificate for another key is refused, nothing changed.
    other = tmp_path / "other.pem"
    other.write_bytes((keys / "acme-customer-ca.pem").read_bytes())
    install = ("tenant", "install-cert", str(p12))
    code, out, err = await dpabot(
        *install, str(other), "--passphrase-env", "ACME_PW", env={"ACME_PW": PASSPHRASE}
    )
    assert (code, out) == (2, "")
    assert err == "dpabot: The certificate is not for this key (its public key differs).\n"
    code, out, err = await dpabot(
        *install, str(issued), "--passphrase-env", "ACME_PW", env={"ACME_PW": "wrong one!"}
    )
    assert (code, err) == (2, f"dpabot: The passphrase of the signing key file {p12} is wrong.\n")
    assert p12.read_bytes() == before

    code, out, err = await dpabot(
        *install, str(issued), "--chain", str(ca_pem), "--passphrase-env", "ACME_PW",
        env={"ACME_PW": PASSPHRASE},
    )  # fmt: skip
    assert code == 0, err
    assert (keys / "acme-signer.p12.self-signed").read_bytes() == before
    assert stat.S_IMODE(p12.stat().st_mode) == 0o600
    _, cert, chain = open_pkcs12(p12, PASSPHRASE.encode(), "signing key")
    assert cert.issuer == ca_cert.subject and chain == [ca_cert]
    assert "issued by CN=Test Qualified CA" in out
