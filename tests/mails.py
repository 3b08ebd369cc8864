"""Mail material the tests build, pure: a DKIM key with its DNS record, a delivery report."""

from __future__ import annotations

import base64
from email.message import EmailMessage

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def dkim_key() -> tuple[bytes, bytes]:
    """A private key (PEM) and the DNS TXT record of its public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    pub = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem, b"v=DKIM1; k=rsa; p=" + base64.b64encode(pub)


def delivery_report(
    *, sender: str, to: str, message_id: str, recipient: str, headers: str
) -> bytes:
    """A delivery report (multipart/report) from `sender`: the mail to `recipient` failed
    (5.1.1); `headers` are the returned mail's headers as the report shows them."""
    dsn = EmailMessage()
    dsn["From"] = sender
    dsn["To"] = to
    dsn["Subject"] = "Undelivered Mail Returned to Sender"
    dsn["Message-ID"] = message_id
    dsn.set_content("This is the mail system. Your message could not be delivered.")
    dsn.add_attachment(
        f"Final-Recipient: rfc822; {recipient}\nAction: failed\nStatus: 5.1.1\n",
        subtype="delivery-status",
    )
    dsn.add_attachment(headers, subtype="rfc822-headers")
    dsn.replace_header(
        "Content-Type", dsn["Content-Type"].replace("multipart/mixed", "multipart/report")
    )
    return bytes(dsn)
