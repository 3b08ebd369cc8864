"""Byte-level building blocks for the reply corpus: headers, encodings, quoting, the originals.

The corpus mails are assembled by hand (not by the email package) so each one carries the header
style, MIME layout, charset and transfer encoding of the client it imitates.
"""

from __future__ import annotations

import base64
import email.charset
import email.header
import email.policy
import hashlib
import html
import quopri
import random
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from templates import annex_questions, load_manifest, render_email  # noqa: E402
from templates.emails import DEFAULT_ANNEX_NAME  # noqa: E402

# ------------------------------------------------------------------ parties and originals


@dataclass(frozen=True)
class Tenant:
    name: str
    address: str  # From of dpabot's mails
    slug: str

    def reply_address(self, token: str) -> str:
        local, _, domain = self.address.partition("@")
        return f"{local}+{token}@{domain}"


TENANTS = {
    "ibeauty": Tenant("iBeauty BVBA", "dpa@ibeauty.example", "ibeauty"),
    "also": Tenant("ALSO België", "dpa@also-belgie.example", "also"),
    "clauses": Tenant("Verwerker BV", "privacy@verwerker.example", "verwerker"),
    "it4professionals": Tenant("IT4Professionals", "dpa@it4professionals.example", "it4pro"),
}


@dataclass(frozen=True)
class Customer:
    name: str
    rep: str
    email: str


@dataclass(frozen=True)
class Original:
    """The dpabot mail the customer replies to, as it reached the customer."""

    kind: str  # invitation | final
    tenant: Tenant
    customer: Customer
    token: str
    message_id: str
    subject: str
    text: str
    html_body: str  # inner HTML of <body>
    html_full: str
    date_rfc: str  # Date header
    when: tuple[int, int]  # hour, minute (23 or 25 Nov 2026)
    day: int

    @property
    def reply_to(self) -> str:
        return self.tenant.reply_address(self.token)

    @property
    def from_display(self) -> str:
        return f"{self.tenant.name} <{self.tenant.address}>"


def proposals(template: str) -> dict[str, str]:
    m = load_manifest(template)
    return {f.id: f.default or "" for f in m.annex_fields}


def make_original(
    kind: str, template: str, lang: str, customer: Customer, n: int, values: dict[str, str]
) -> Original:
    tenant = TENANTS[template]
    m = load_manifest(template)
    rnd = random.Random(f"orig-{n}")
    token = "".join(rnd.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))
    contract_id = 100 + n
    ctx = {
        "tenant_name": tenant.name,
        "customer_name": customer.name,
        "representative": customer.rep,
        "contract_ref": f"{tenant.slug}-{contract_id}",
        "contract_language": m.language,
        "annex": m.annex_name.get(lang) or DEFAULT_ANNEX_NAME[lang],
        "questions": annex_questions(template, values, lang),
        "sha256": hashlib.sha256(f"final-{n}".encode()).hexdigest(),
        "missing": [],
        "invalid": [],
        "awaiting_signature": False,
    }
    r = render_email(kind, lang, ctx)
    body = re.search(r"<body[^>]*>(.*)</body>", r.html, re.S)
    day, when = (23, (10, 12)) if kind == "invitation" else (25, (14, 3))
    dow = "Mon" if day == 23 else "Wed"
    mid = f"<{rnd.getrandbits(64):016x}.{rnd.getrandbits(32):08x}@{tenant.address.split('@')[1]}>"
    return Original(
        kind=kind,
        tenant=tenant,
        customer=customer,
        token=token,
        message_id=mid,
        subject=r.subject,
        text=r.text.rstrip("\n"),
        html_body=body.group(1).strip() if body else r.html,
        html_full=r.html,
        date_rfc=f"{dow}, {day} Nov 2026 {when[0] - 1:02d}:{when[1]:02d}:47 +0000",
        when=when,
        day=day,
    )


# ------------------------------------------------------------------ dates in client wording

NL_DAYS = {23: ("maandag", "ma"), 25: ("woensdag", "wo")}
FR_DAYS = {23: ("lundi", "lun."), 25: ("mercredi", "mer.")}
EN_DAYS = {23: ("Monday", "Mon"), 25: ("Wednesday", "Wed")}


def hm(o: Original) -> str:
    return f"{o.when[0]:02d}:{o.when[1]:02d}"


def ampm(o: Original) -> str:
    h, mi = o.when
    return f"{(h - 1) % 12 + 1}:{mi:02d} {'AM' if h < 12 else 'PM'}"


def outlook_sent(o: Original, lang: str) -> str:
    if lang == "nl":
        return f"{NL_DAYS[o.day][0]} {o.day} november 2026 {hm(o)}"
    if lang == "fr":
        return f"{FR_DAYS[o.day][0]} {o.day} novembre 2026 {hm(o)}"
    return f"{EN_DAYS[o.day][0]}, November {o.day}, 2026 {ampm(o)}"


# ------------------------------------------------------------------ encodings

BEST_FIT = {
    "\u2013": "-",
    "\u2014": "-",
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u00a0": " ",
    "\u20ac": "EUR",
}


def fit(text: str, charset: str) -> bytes:
    """Encode like a client set to that charset: best-fit for what the charset lacks."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode(charset)
        except UnicodeEncodeError:
            out += BEST_FIT.get(ch, "?").encode(charset, errors="replace")
    return bytes(out)


def encode_body(text: str, charset: str, cte: str) -> bytes:
    data = fit(text.replace("\r\n", "\n"), charset)
    if cte == "quoted-printable":
        return quopri.encodestring(data)
    if cte == "base64":  # canonical form: CRLF line ends inside the encoded text
        return base64.encodebytes(data.replace(b"\n", b"\r\n"))
    return data  # 7bit / 8bit


def text_part(
    text: str,
    subtype: str,
    charset: str,
    cte: str,
    extra_ct: str = "",
    extra_headers: str = "",
) -> bytes:
    head = f'Content-Type: text/{subtype}; charset="{charset}"{extra_ct}\n'
    head += f"Content-Transfer-Encoding: {cte}\n{extra_headers}\n"
    body = encode_body(text, charset, cte)
    if not body.endswith(b"\n"):
        body += b"\n"
    return head.encode() + body


def pdf_part(data: bytes, filename: str, style: str = "plain") -> bytes:
    if style == "outlook":
        head = (
            f'Content-Type: application/pdf;\n\tname="{filename}"\n'
            f"Content-Transfer-Encoding: base64\n"
            f'Content-Disposition: attachment;\n\tfilename="{filename}"\n\n'
        )
    elif style == "apple":
        head = (
            f'Content-Disposition: attachment;\n\tfilename="{filename}"\n'
            f'Content-Type: application/pdf;\n\tx-unix-mode=0644;\n\tname="{filename}"\n'
            f"Content-Transfer-Encoding: base64\n\n"
        )
    else:
        head = (
            f'Content-Type: application/pdf; name="{filename}"\n'
            f'Content-Disposition: attachment; filename="{filename}"\n'
            f"Content-Transfer-Encoding: base64\n\n"
        )
    return head.encode() + base64.encodebytes(data)


def multipart(subtype: str, boundary: str, parts: list[bytes], extra: str = "") -> bytes:
    out = f'Content-Type: multipart/{subtype};{extra}\n\tboundary="{boundary}"\n\n'.encode()
    for p in parts:
        out += f"--{boundary}\n".encode() + p
        if not p.endswith(b"\n"):
            out += b"\n"
        out += b"\n"
    out += f"--{boundary}--\n".encode()
    return out


def header(name: str, value: str, charset: str = "utf-8") -> str:
    """One header, folded; non-ASCII words as RFC 2047 in `charset`."""
    if all(ord(c) < 128 for c in value) or charset.lower() == "utf-8":
        return email.policy.SMTP.clone(linesep="\n").fold(name, value)
    try:
        value.encode(email.charset.Charset(charset).input_codec or charset)
    except (UnicodeEncodeError, LookupError):
        charset = "utf-8"  # clients switch to UTF-8 when their charset lacks a character
    h = email.header.Header(value, charset=charset, header_name=name, maxlinelen=76)
    return f"{name}: {h.encode(linesep=chr(10))}\n"


def address(name: str, addr: str, charset: str = "utf-8", quote: bool = False) -> str:
    if all(ord(c) < 128 for c in name):
        if quote or re.search(r"[(),.:;<>@\[\]\\\"]", name):
            return f'"{name}" <{addr}>'
        return f"{name} <{addr}>"
    try:
        name.encode(charset)
    except (UnicodeEncodeError, LookupError):
        charset = "utf-8"
    enc = email.header.Header(name, charset=charset).encode()
    return f"{enc} <{addr}>"


def finish(raw: bytes) -> bytes:
    """CRLF line ends, as on the wire."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


# ------------------------------------------------------------------ quoting and HTML


def quote_plain(text: str, prefix: str = "> ", width: int | None = None) -> str:
    out = []
    for line in text.split("\n"):
        if not line.strip():
            out.append(prefix.rstrip())
            continue
        if width and len(line) > width:
            for chunk in textwrap.wrap(
                line, width, subsequent_indent="", break_long_words=False, break_on_hyphens=False
            ):
                out.append(prefix + chunk)
        else:
            out.append(prefix + line)
    return "\n".join(out)


def wrap_plain(text: str, width: int = 76) -> str:
    """Hard-wrap new text like Gmail's text/plain part (long words kept whole)."""
    out = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
        else:
            out.extend(textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


def flowed(text: str, width: int = 72, prefix: str = "") -> str:
    """format=flowed lines (RFC 3676): soft breaks end in a space; `prefix` quotes ("> ")."""
    out = []
    for line in text.split("\n"):
        if line == "-- ":
            out.append(prefix + line)
            continue
        line = line.rstrip(" ")
        if not line:
            out.append(prefix.rstrip())
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        words = line.lstrip(" ").split(" ")
        chunks: list[str] = []
        cur = indent
        for w in words:
            if cur.strip() and len(cur) + 1 + len(w) > width:
                chunks.append(cur + " ")
                cur = w
            else:
                cur = f"{cur} {w}" if cur.strip() else cur + w
        chunks.append(cur)
        for c in chunks:
            if not prefix and c.startswith((" ", ">", "From ")):
                c = " " + c  # space-stuffing
            out.append(prefix + c)
    return "\n".join(out)


def esc(s: str) -> str:
    return html.escape(s, quote=False)


def html_lines(text: str, tag: str = "div", attrs: str = "", empty: str = "<br>") -> str:
    out = []
    for line in text.split("\n"):
        inner = esc(line) if line.strip() else empty
        out.append(f"<{tag}{attrs}>{inner}</{tag}>")
    return "\n".join(out)


def html_br(text: str) -> str:
    return "<br>\n".join(esc(line) for line in text.split("\n"))


def ids(n: int) -> random.Random:
    return random.Random(f"case-{n}")


def hexid(rnd: random.Random, k: int) -> str:
    return "".join(rnd.choice("0123456789abcdef") for _ in range(k))


def alnum(rnd: random.Random, k: int) -> str:
    return "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(k))
