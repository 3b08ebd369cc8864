"""The verification page over real HTTP (`dpabot verify-web`, uvicorn) on `dpabot demo`'s
installation: the demo's PDF is valid and archived here, a byte-flipped copy is changed, and
bad uploads get one plain sentence; the page says what `dpabot verify` says, stores nothing."""

from __future__ import annotations

import json
import select
import socket
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pikepdf
import pytest

from tests.fixtures.verify_web import run_dpabot, start_verify_web, stop


def flipped(pdf: Path) -> bytes:
    """The same PDF with one byte flipped, as `test_cli` tampers with it."""
    data = bytearray(pdf.read_bytes())
    at = data.index(b"Artikel") if b"Artikel" in data else len(data) // 3
    data[at] ^= 0x01
    return bytes(data)


def upload(url: str, data: bytes, name: str = "contract.pdf", **kw) -> httpx.Response:
    return httpx.post(url, files={"file": (name, data, "application/pdf")}, timeout=300, **kw)


def test_demo_pdf_is_valid_archived_here_and_the_page_agrees_with_the_cli(verify_web, demo_install):
    pdf = demo_install.pdf.read_bytes()
    api = upload(f"{verify_web.url}/api/verify", pdf)
    assert api.status_code == 200, api.text
    body = api.json()
    assert body["verdict"] == "valid" and body["changed"] is False
    assert [s["status"] for s in body["signatures"]] == ["valid", "valid"]
    assert body["signatures"][1]["signer"] == "Karolien Piskor"
    # Matched by hash, and nothing of the entry but the day it was archived.
    assert body["archive"] == {"archived_on": demo_install.out["timestamp"][:10]}
    # The same report as `dpabot verify --json` with the demo's root.
    cli = run_dpabot(
        "verify", str(demo_install.pdf), "--trust", str(demo_install.trust_root), "--json"
    )
    assert cli.returncode == 0, cli.stderr
    assert body["report"] == json.loads(cli.stdout)

    # The match is an audit event of the tenant that archived it (the chain still verifies).
    config = str(demo_install.workdir / "dpabot.toml")
    log = run_dpabot("audit", "--config", config, "--tenant", "ibeauty", "--verify", "--json")
    assert log.returncode == 0, log.stderr
    matches = [e for e in json.loads(log.stdout)["events"] if e["action"] == "archive.public_match"]
    assert [(e["actor"], e["subject"]) for e in matches] == [
        ("web:verify", demo_install.out["archive_id"])
    ]

    page = upload(f"{verify_web.url}/?lang=en", pdf)
    assert page.status_code == 200
    assert "Valid: every signature is intact and trusted" in page.text
    assert "Karolien Piskor" in page.text
    assert "This exact file is in this installation&#39;s archive" in page.text
    assert "MOOI" not in page.text and demo_install.out["archive_id"] not in page.text
    # The page names the root it trusts: the demo's dev PKI root, by fingerprint.
    from bot.core.tenant_signing import load_cert

    assert load_cert(demo_install.trust_root).sha256.hex() in page.text


def test_a_byte_flipped_copy_is_changed_not_archived_and_the_cli_fails_it_too(
    verify_web, demo_install, tmp_path
):
    bad = flipped(demo_install.pdf)
    body = upload(f"{verify_web.url}/api/verify", bad).json()
    assert body["verdict"] == "changed" and body["changed"] is True
    assert {s["status"] for s in body["signatures"]} == {"changed"}
    assert body["archive"] is None
    copy = tmp_path / "flipped.pdf"
    copy.write_bytes(bad)
    cli = run_dpabot("verify", str(copy), "--trust", str(demo_install.trust_root), "--json")
    assert cli.returncode == 1 and body["report"] == json.loads(cli.stdout)
    nl = upload(verify_web.url, bad, headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})
    assert "Gewijzigd: dit document werd na het ondertekenen veranderd." in nl.text
    fr = upload(verify_web.url, bad, headers={"Accept-Language": "fr-BE"})
    assert "Modifié : ce document a été changé après avoir été signé." in fr.text


def test_not_a_pdf_and_an_encrypted_pdf_get_a_plain_sentence(verify_web, demo_install, tmp_path):
    text = upload(f"{verify_web.url}/?lang=en", b"Dear sir, please sign.\n", "letter.txt")
    assert text.status_code == 422
    assert "This file is not a PDF. Choose the signed PDF of the contract." in text.text
    locked = tmp_path / "locked.pdf"
    with pikepdf.open(demo_install.pdf) as doc:
        doc.save(locked, encryption=pikepdf.Encryption(owner="o", user="secret"))
    enc = upload(f"{verify_web.url}/?lang=en", locked.read_bytes())
    assert enc.status_code == 422
    assert "This PDF is protected by a password (encrypted)" in enc.text
    broken = upload(f"{verify_web.url}/api/verify", b"%PDF-1.7\n" + b"\x00garbage" * 100)
    assert broken.json()["verdict"] in ("unreadable", "no_signature")
    nothing = httpx.post(f"{verify_web.url}/?lang=en", data={"file": "x"}, timeout=60)
    assert nothing.status_code == 400 and "No file arrived." in nothing.text


def test_a_50_mb_upload_is_refused_before_its_body_is_read(verify_web):
    """Content-Length says 50 MB: the answer comes after the headers, no body sent."""
    host, port = urlsplit(verify_web.url).hostname, urlsplit(verify_web.url).port
    size = 50 * 1024 * 1024
    with socket.create_connection((host, port), timeout=60) as s:
        s.sendall(
            b"POST /?lang=en HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=B\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode()
        )
        answer = b""
        while b"</html>" not in answer:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"This file is too large: at most 5 MB." in answer


def test_a_streamed_upload_is_cut_off_at_the_limit(verify_web):
    """No Content-Length (chunked): the answer comes once the limit (5 MB) is passed, long
    before the client has sent its 50 MB."""
    host, port = urlsplit(verify_web.url).hostname, urlsplit(verify_web.url).port
    chunk = b"0" * 65536
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sent = 0
    with socket.create_connection((host, port), timeout=60) as s:
        s.sendall(
            b"POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        try:
            while sent < 50 * 1024 * 1024:
                if select.select([s], [], [], 0)[0]:
                    break  # the server has answered
                s.sendall(frame)
                sent += len(chunk)
        except OSError:  # the server closed while the client still wrote
            pass
        answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 50 * 1024 * 1024


def test_nothing_of_an_upload_is_stored(verify_web, demo_install):
    """No new file in the server's TMPDIR, and the upload's bytes in no file anywhere near
    (its temp folder, the installation's data folder with its database and archive)."""
    before = set(verify_web.tmpdir.rglob("*"))  # the embedded database's lock file only
    marker = f"%verify-web-{uuid.uuid4().hex}\n".encode()
    body = upload(f"{verify_web.url}/api/verify", demo_install.pdf.read_bytes() + marker).json()
    assert body["verdict"] in ("valid", "not_valid", "changed")
    assert set(verify_web.tmpdir.rglob("*")) == before
    for folder in (verify_web.tmpdir, demo_install.workdir):
        for path in folder.rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    assert marker not in path.read_bytes(), path
                except PermissionError:
                    continue


@pytest.fixture
def strict_server(tmp_path):
    """A page with no installation (no tenants, no roots), two uploads a client, and a time
    limit no validation can meet: what a PDF bomb meets."""
    server = start_verify_web(
        tmp_path, "--burst", "2", "--per-minute", "0.01", "--timeout", "0.001"
    )
    yield server
    stop(server)


def test_a_file_that_takes_too_long_is_stopped_then_the_client_is_rate_limited(
    strict_server, demo_install
):
    pdf = demo_install.pdf.read_bytes()
    for _ in range(2):
        r = upload(f"{strict_server.url}/?lang=en", pdf)
        assert r.status_code == 422
        assert "took too long or too much memory to check, so checking it was stopped" in r.text
    limited = upload(f"{strict_server.url}/?lang=en", pdf)
    assert limited.status_code == 429
    assert "Too many files from your address in a short time." in limited.text
    page = httpx.get(f"{strict_server.url}/?lang=en", timeout=60)
    assert "This installation names no trust roots" in page.text


def pdf_bomb(inflated: int) -> bytes:
    """A 300 KB PDF whose cross-reference stream inflates to ``inflated`` bytes of zeros."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate; the zlib frame is added below
    block = b"\0" * (1 << 20)
    blocks = inflated >> 20
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    # After the first, every megabyte of zeros deflates to the same bytes: repeat them.
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    adler = 1
    for _ in range(blocks):
        adler = zlib.adler32(block, adler)
    raw = first + again * (blocks - 2) + c.compress(block) + c.flush()
    data = b"\x78\xda" + raw + adler.to_bytes(4, "big")
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    objs = (
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    )
    xref = (
        (
            b"3 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode "
            b"/Length %d >>\nstream\n" % (inflated // 7, len(data))
        )
        + data
        + b"\nendstream\nendobj\n"
    )
    return head + objs + xref + b"startxref\n%d\n%%%%EOF\n" % (len(head) + len(objs))


def test_a_pdf_bomb_gets_a_plain_answer_and_the_page_goes_on(verify_web, demo_install):
    bomb = pdf_bomb(400 << 20)
    assert len(bomb) < 1 << 20
    r = upload(f"{verify_web.url}/?lang=en", bomb)
    assert r.status_code == 422
    assert "This PDF took too long or too much memory to check" in r.text
    after = upload(f"{verify_web.url}/api/verify", demo_install.pdf.read_bytes()).json()
    assert after["verdict"] == "valid"


def _trickle(url: str) -> socket.socket:
    """An upload that declares 100 KB and sends nine bytes: it holds its connection."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    s = socket.create_connection((host, port), timeout=60)
    s.sendall(
        b"POST /api/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/pdf\r\n"
        b"Content-Length: 100000\r\n\r\n%PDF-1.7\n"
    )
    return s


def test_trickled_uploads_cannot_hold_every_connection(tmp_path):
    """attack2: the page has 32 connections. One client (here with a burst large enough to
    open them all) starts 31 uploads and sends their bytes one by one: it may hold two, the
    others are refused at once, and the page still answers everybody else."""
    server = start_verify_web(tmp_path, "--burst", "100", "--per-minute", "600")
    held = []
    try:
        held = [_trickle(server.url) for _ in range(31)]
        refused = 0
        for s in held:
            s.settimeout(1.0)
            try:
                refused += s.recv(100).startswith(b"HTTP/1.1 429")
            except TimeoutError:
                pass  # still held: one of the two this client may have
        assert refused == 29
        for _ in range(3):
            assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
    finally:
        for s in held:
            s.close()
        stop(server)


def test_an_upload_that_takes_too_long_to_arrive_is_cut_off(tmp_path):
    server = start_verify_web(tmp_path, "--upload-timeout", "2")
    try:
        s = _trickle(server.url)
        s.settimeout(30)
        answer = b""
        with s:
            while chunk := s.recv(65536):  # the server closes once it has answered
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b'"verdict":"too_slow"' in answer
        page = upload(f"{server.url}/?lang=nl", b"%PDF-1.7\n")  # the page goes on
        assert page.status_code == 422
    finally:
        stop(server)
