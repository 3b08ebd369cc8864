"""The compose file's Dovecot configuration (storage/deploy/dovecot/dovecot.conf), run by the
local Dovecot: a mail to dpa+TOKEN@ arrives over LMTP in dpa@'s inbox with the whole address
in Delivered-To, and dpabot logs in over IMAP with the password make-secrets.sh generated."""

from __future__ import annotations

import imaplib
import os
import shutil
import smtplib
import subprocess
import tempfile
from collections.abc import Iterator
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest

from tests.fixtures.dovecot import _GID, _UID, Dovecot

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "storage" / "deploy" / "dovecot" / "dovecot.conf"
MAKE_SECRETS = ROOT / "storage" / "deploy" / "example" / "make-secrets.sh"
ADDRESS = "dpa@example.be"


def local_config(root: Path, imap_port: int, lmtp_port: int, users: Path) -> str:
    """The committed file with only its "(test: …)" lines pointed at ``root``, plus what an
    unprivileged Dovecot needs (the image runs it as root with these defaults)."""
    text = CONF.read_text()
    for old, new in {
        "listen = *": "listen = 127.0.0.1",
        "log_path = /dev/stderr": f"log_path = {root}/dovecot.log",
        "info_log_path = /dev/stdout": f"info_log_path = {root}/dovecot.log",
        "/run/secrets/mailbox_users": str(users),
        "uid=1000 gid=1000 home=/srv/mail": f"uid={_UID} gid={_GID} home={root}/mail",
        "port = 143": f"port = {imap_port}",
        "port = 24": f"port = {lmtp_port}",
    }.items():
        assert text.count(old) == 1, f"{old!r} is not once in {CONF}"
        text = text.replace(old, new)
    return (
        text
        + f"""
base_dir = {root}/run
state_dir = {root}/state
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    )


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[tuple[Dovecot, Path]]:
    """Dovecot running the deploy config, and the secrets folder make-secrets.sh made."""
    if shutil.which("dovecot") is None:
        pytest.fail("dovecot is not installed (apt-get install dovecot-imapd dovecot-lmtpd)")
    secrets = tmp_path / "secrets"
    subprocess.run(
        ["sh", str(MAKE_SECRETS), str(secrets), f"example={ADDRESS}"],
        check=True,
        capture_output=True,
    )
    # Outside pytest's 0700 folders: the server runs as nobody.
    root = Path(tempfile.mkdtemp(prefix="dpabot-deploy-dovecot-"))
    server = Dovecot(root)
    # What a Docker secret mount shows the container: the file itself, with its own mode.
    users = root / "etc" / "mailbox_users"
    shutil.copy(secrets / "mailbox_users", users)
    server.config.write_text(local_config(root, server.port, server.lmtp_port, users))
    for path in (users, server.config):
        os.chown(path, _UID, _GID)
    checked = subprocess.run(["doveconf", "-n", "-c", str(server.config)], capture_output=True)
    assert checked.returncode == 0, checked.stderr.decode()
    server.start()
    try:
        yield server, secrets
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _mail(to: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "karolien@mooi.example"
    msg["To"] = to
    msg["Subject"] = "Re: verwerkersovereenkomst"
    msg["Message-ID"] = "<reply-1@mooi.example>"
    msg.set_content("1. Klantenbeheer\nAKKOORD\n")
    return msg.as_bytes()


def test_a_reply_to_the_token_address_arrives_in_the_tenant_mailbox(
    deployed: tuple[Dovecot, Path],
) -> None:
    server, secrets = deployed
    token_address = "dpa+Qx7tok3n@example.be"
    with smtplib.LMTP(server.host, server.lmtp_port) as lmtp:
        lmtp.sendmail("karolien@mooi.example", [token_address], _mail(token_address))
        # An address with no mailbox is refused, not silently kept somewhere.
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            lmtp.sendmail("karolien@mooi.example", ["other@example.be"], _mail("x@example.be"))

    password = (secrets / "example_imap_password").read_text()
    imap = imaplib.IMAP4(server.host, server.port)
    try:
        imap.login(ADDRESS, password)
        status, data = imap.select("INBOX")
        assert status == "OK" and data == [b"1"]
        status, fetched = imap.fetch("1", "(BODY.PEEK[HEADER])")
        assert status == "OK"
        raw = fetched[0][1]
        assert isinstance(raw, bytes)
        headers = BytesHeaderParser().parsebytes(raw)
        assert headers["Delivered-To"] == token_address
        assert headers["Message-ID"] == "<reply-1@mooi.example>"
    finally:
        imap.logout()


def test_a_wrong_password_is_refused(deployed: tuple[Dovecot, Path]) -> None:
    server, _ = deployed
    imap = imaplib.IMAP4(server.host, server.port)
    try:
        with pytest.raises(imaplib.IMAP4.error):
            imap.login(ADDRESS, "not-the-generated-password")
    finally:
        imap.shutdown()


def test_the_compose_health_check_command_answers_while_dovecot_runs(
    deployed: tuple[Dovecot, Path],
) -> None:
    server, _ = deployed
    up = subprocess.run(
        ["doveadm", "-c", str(server.config), "service", "status"], capture_output=True
    )
    assert up.returncode == 0, up.stderr.decode()
    server.stop()
    down = subprocess.run(
        ["doveadm", "-c", str(server.config), "service", "status"], capture_output=True
    )
    assert down.returncode != 0
