"""How each mail client writes a reply: headers, MIME layout, charset, quoting, attribution."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mailkit import (
    Customer,
    Original,
    address,
    alnum,
    esc,
    finish,
    flowed,
    header,
    hexid,
    html_br,
    html_lines,
    ids,
    multipart,
    outlook_sent,
    pdf_part,
    quote_plain,
    text_part,
    wrap_plain,
)


@dataclass
class Forward:
    """A colleague forwarded the original to the representative, who replies above."""

    colleague: Customer
    note: str
    hour: str = "15:40"


@dataclass
class Case:
    n: int
    slug: str
    template: str
    client: str
    lang: str
    kind: str  # invitation | final: the dpabot mail replied to
    customer: Customer
    body: str = ""
    sig: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # "=" means: the proposal
    accept: bool = False
    decline: bool = False
    auto_reply: bool = False
    bounce: bool = False
    change_requests: list[str] = field(default_factory=list)
    questions: int = 0
    charset: str | None = None
    cte: str | None = None
    inline: dict[int, str] | None = None
    inline_after: str = "proposal"  # or "label"
    pdf: dict[str, str] | None = None
    forward: Forward | None = None
    variant: str = ""
    also_accept: dict[str, list[str]] = field(default_factory=dict)
    notes: str = ""
    # filled in by make_corpus
    original: Original | None = None
    pdf_bytes: bytes | None = None
    pdf_name: str = ""


# ------------------------------------------------------------------ helpers

RE_PREFIX = {
    "outlook": {"nl": "RE: ", "fr": "RE : ", "en": "RE: "},
    "plain": {"nl": "Re: ", "fr": "Re: ", "en": "Re: "},
    "fw": {"nl": "FW: ", "fr": "TR : ", "en": "FW: "},
}


def reply_date(c: Case) -> str:
    r = ids(c.n)
    day = 24 if c.kind == "invitation" else 26
    dow = "Tue" if day == 24 else "Thu"
    return f"{dow}, {day} Nov 2026 {8 + r.randrange(9):02d}:{r.randrange(60):02d}:{r.randrange(60):02d} +0100"


def parent_id(c: Case) -> str:
    """The Message-ID replied to: dpabot's mail, or the colleague's forward of it."""
    if c.forward:
        dom = c.forward.colleague.email.split("@")[1]
        return (
            f"<{hexid(ids(c.n + 1000), 12)}${hexid(ids(c.n + 1000), 8)}@{dom}>"
            if "gmail" not in dom
            else f"<CA{alnum(ids(c.n + 1000), 42)}@mail.gmail.com>"
        )
    return c.original.message_id


def to_address(c: Case, charset: str = "utf-8") -> str:
    """Replies go to the plus address; a reply to a colleague's forward can only copy dpabot's From."""
    o = c.original
    return address(o.tenant.name, o.tenant.address if c.forward else o.reply_to, charset)


def thread_headers(c: Case) -> str:
    return header("In-Reply-To", parent_id(c)) + header("References", parent_id(c))


def new_text(c: Case) -> str:
    return c.body + ("\n\n" + c.sig if c.sig else "")


def inline_segments(c: Case) -> list[tuple[str, str]]:
    """The original cut into quoted pieces with the customer's answers in between."""
    lines = c.original.text.split("\n")
    cut_after: dict[int, str] = {}
    for n, answer in (c.inline or {}).items():
        start = next(i for i, ln in enumerate(lines) if ln.startswith(f"{n}. "))
        at = start
        if c.inline_after == "proposal":
            at = next(
                i
                for i in range(start, len(lines))
                if re.match(r"\s+(Voorstel|Proposition|Proposal)\s?:", lines[i])
            )
        cut_after[at] = answer
    segs: list[tuple[str, str]] = []
    buf: list[str] = []
    for i, ln in enumerate(lines):
        buf.append(ln)
        if i in cut_after:
            segs.append(("q", "\n".join(buf)))
            segs.append(("a", cut_after[i]))
            buf = []
    if buf:
        segs.append(("q", "\n".join(buf)))
    return segs


def outlook_block(c: Case, lang: str, style: str, o: Original | None = None) -> tuple[str, str]:
    """The "Van:/Verzonden:/Aan:/Onderwerp:" block (plain, html) above a quoted original."""
    o = o or c.original
    names = {
        "nl": ("Van:", "Verzonden:", "Aan:", "Onderwerp:"),
        "fr": ("De :", "Envoyé :", "À :", "Objet :"),
        "en": ("From:", "Sent:", "To:", "Subject:"),
    }[lang]
    to = f"{c.customer.rep} <{c.customer.email}>"
    sent = outlook_sent(o, lang)
    if style == "mobile":
        sent = {
            "nl": f"Monday, November {o.day}, 2026 {o.when[0]:02d}:{o.when[1]:02d}:47 AM",
            "fr": f"{outlook_sent(o, 'fr')}:47",
            "en": f"Monday, November {o.day}, 2026 {o.when[0]}:{o.when[1]:02d}:47 AM",
        }[lang]
    sender = o.from_display if style != "2010" else f"{o.tenant.name} [mailto:{o.tenant.address}]"
    plain = f"{names[0]} {sender}\n{names[1]} {sent}\n{names[2]} {to}\n{names[3]} {o.subject}\n"
    h = (
        f"<b>{names[0]}</b> {esc(o.from_display)}<br>\n<b>{names[1]}</b> {esc(sent)}<br>\n"
        f"<b>{names[2]}</b> {esc(to)}<br>\n<b>{names[3]}</b> {esc(o.subject)}"
    )
    return plain, h


def subject(c: Case, style: str, fw: bool = False) -> str:
    pre = RE_PREFIX[style][c.lang]
    s = c.original.subject
    if fw:
        s = ("Fwd: " if style == "plain" else RE_PREFIX["fw"][c.lang]) + s
    return pre + s


# ------------------------------------------------------------------ Outlook desktop (Windows)

MSO_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40"><head><meta http-equiv=Content-Type content="text/html; charset={charset}"><meta name=Generator content="Microsoft Word 15 (filtered medium)"><style><!--
/* Font Definitions */
@font-face
	{{font-family:"Cambria Math";
	panose-1:2 4 5 3 5 4 6 3 2 4;}}
@font-face
	{{font-family:Aptos;}}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
	{{margin:0cm;
	font-size:11.0pt;
	font-family:"Aptos",sans-serif;
	mso-ligatures:standardcontextual;
	mso-fareast-language:EN-US;}}
a:link, span.MsoHyperlink
	{{mso-style-priority:99;
	color:#467886;
	text-decoration:underline;}}
span.EmailStyle19
	{{mso-style-type:personal-reply;
	font-family:"Aptos",sans-serif;
	color:windowtext;}}
.MsoChpDefault
	{{mso-style-type:export-only;
	font-size:10.0pt;
	mso-ligatures:none;}}
@page WordSection1
	{{size:612.0pt 792.0pt;
	margin:70.85pt 70.85pt 70.85pt 70.85pt;}}
div.WordSection1
	{{page:WordSection1;}}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]--></head><body lang={body_lang} link="#467886" vlink="#96607D" style='word-wrap:break-word'><div class=WordSection1>"""


def mso_paras(text: str, color: str = "") -> str:
    out = []
    for line in text.split("\n"):
        inner = esc(line) if line.strip() else "&nbsp;"
        if color:
            inner = f"<span style='color:{color}'>{inner}</span>"
        if line.strip():
            out.append(f"<p class=MsoNormal>{inner}<o:p></o:p></p>")
        else:
            out.append(f"<p class=MsoNormal><o:p>{inner}</o:p></p>")
    return "\n".join(out)


def mso_block(h: str) -> str:
    return (
        "<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>"
        f"<p class=MsoNormal>{h}<o:p></o:p></p></div></div>\n<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n"
    )


def outlook_desktop(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    charset = c.charset or "windows-1252"
    cte = c.cte or "quoted-printable"
    lang_tag = {"nl": "nl-BE", "fr": "fr-BE", "en": "en-GB"}[c.lang]
    plain_block, html_block = outlook_block(c, c.lang, "desktop")
    body_lang = {"nl": "NL-BE", "fr": "FR-BE", "en": "EN-GB"}[c.lang]
    plain = new_text(c) + "\n\n"
    html = MSO_HEAD.format(charset=charset, body_lang=body_lang) + mso_paras(new_text(c)) + "\n"
    html += "<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n"
    if c.forward:
        f = c.forward
        fw_plain = (
            {"nl": "Van:", "fr": "De :", "en": "From:"}[c.lang]
            + f" {f.colleague.rep} <{f.colleague.email}>\n"
            + {"nl": "Verzonden:", "fr": "Envoyé :", "en": "Sent:"}[c.lang]
            + f" {outlook_sent(o, c.lang).rsplit(' ', 1)[0]} {f.hour}\n"
            + {"nl": "Aan:", "fr": "À :", "en": "To:"}[c.lang]
            + f" {c.customer.rep} <{c.customer.email}>\n"
            + {"nl": "Onderwerp:", "fr": "Objet :", "en": "Subject:"}[c.lang]
            + f" {RE_PREFIX['fw'][c.lang]}{o.subject}\n"
        )
        plain += fw_plain + "\n" + f.note + "\n\n"
        html += (
            mso_block(html_br(fw_plain.rstrip("\n")).replace("<br>\n", "<br>"))
            + mso_paras(f.note)
            + "\n"
        )
        html += "<p class=MsoNormal><o:p>&nbsp;</o:p></p>\n"
    plain += plain_block + "\n"
    html += mso_block(html_block)
    if c.inline:
        for kind, text in inline_segments(c):
            if kind == "q":
                plain += text + "\n"
                html += mso_paras(text) + "\n"
            else:
                ans = "\n".join("=> " + ln for ln in text.split("\n"))
                plain += ans + "\n"
                html += mso_paras(ans, color="#0070C0") + "\n"
    else:
        plain += o.text + "\n"
        html += f"<div>{o.html_body}</div>\n"
    html += "</div></body></html>\n"
    bnd = f"----=_NextPart_000_{r.randrange(0x10000):04X}_01DB{hexid(r, 4).upper()}.{hexid(r, 8).upper()}"
    alt = multipart(
        "alternative",
        bnd,
        [text_part(plain, "plain", charset, cte), text_part(html, "html", charset, cte)],
    )
    dom = c.customer.email.split("@")[1]
    msgid = f"<{hexid(r, 12)}${hexid(r, 8)}${hexid(r, 8)}@{dom}>"
    head = header("From", address(c.customer.rep, c.customer.email, charset))
    head += header("To", to_address(c, charset), charset)
    if c.forward:
        head += header("Cc", f"{c.forward.colleague.rep} <{c.forward.colleague.email}>")
    head += header("Subject", subject(c, "outlook", fw=bool(c.forward)), charset)
    head += header("Date", reply_date(c))
    head += header("Message-ID", msgid)
    head += thread_headers(c)
    head += "MIME-Version: 1.0\n"
    if c.pdf_bytes:
        bnd2 = bnd.replace("_000_", "_001_") if "_000_" in bnd else bnd + "_mixed"
        parts = [alt, pdf_part(c.pdf_bytes, c.pdf_name, "outlook")]
        body = multipart("mixed", bnd2, parts)
    else:
        body = alt
    head_b = head.encode()
    tail = (
        "X-Mailer: Microsoft Outlook 16.0\n"
        f"Thread-Index: AQH{alnum(r, 24)}\n"
        f"Content-Language: {lang_tag}\n"
    )
    # Outlook writes Content-Type before X-Mailer / Thread-Index / Content-Language.
    ct_end = body.index(b"\n\n")
    return finish(head_b + body[: ct_end + 1] + tail.encode() + b"\n" + body[ct_end + 2 :])


# ------------------------------------------------------------------ Outlook on the web / new Outlook / mobile

OWA_HEAD = """<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<style type="text/css" style="display:none;"> P {{margin-top:0;margin-bottom:0;}} </style>
</head>
<body dir="ltr">
"""


def exchange_headers(c: Case, r, lang_tag: str, subj_style: str = "outlook") -> tuple[str, str]:
    o = c.original
    tenant_box = alnum(r, 4)
    msgid = f"<AM{r.randrange(9)}PR0{r.randrange(10)}MB{r.randrange(10000):04d}{alnum(r, 20)}@AM{r.randrange(9)}PR0{r.randrange(10)}MB{tenant_box}.eurprd0{r.randrange(1, 9)}.prod.outlook.com>"
    subj = subject(c, subj_style)
    head = header("From", address(c.customer.rep, c.customer.email, "utf-8"))
    head += header("To", address(o.tenant.name, o.reply_to, "utf-8"))
    head += header("Subject", subj, "utf-8")
    head += header("Thread-Topic", o.subject, "utf-8")
    head += f"Thread-Index: AQH{alnum(r, 22)}==\n"
    head += header("Date", reply_date(c))
    head += header("Message-ID", msgid)
    head += thread_headers(c)
    head += f"Accept-Language: {lang_tag}, en-US\nContent-Language: {lang_tag}\n"
    head += "X-MS-Has-Attach: \nX-MS-TNEF-Correlator: \nmsip_labels: \n"
    bnd = f"_000_{msgid[1:].split('@')[0]}_"
    return head, bnd


def outlook_web(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    charset = c.charset or "iso-8859-1"
    cte = c.cte or "quoted-printable"
    lang_tag = {"nl": "nl-BE", "fr": "fr-BE", "en": "en-GB"}[c.lang]
    plain_block, html_block = outlook_block(c, c.lang, "web")
    plain = (
        new_text(c) + "\n\n________________________________\n" + plain_block + "\n" + o.text + "\n"
    )
    div = (
        '<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, '
        'Aptos_MSFontService, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">'
    )
    html = OWA_HEAD.format(charset=charset)
    html += div + html_br(new_text(c)) + "</div>\n"
    html += (
        '<div id="appendonsend"></div>\n<hr style="display:inline-block;width:98%" tabindex="-1">\n'
        '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" '
        f'color="#000000">{html_block}</font>\n<div>&nbsp;</div>\n</div>\n'
    )
    html += o.html_body + "\n</body>\n</html>\n"
    head, bnd = exchange_headers(c, r, lang_tag)
    body = multipart(
        "alternative",
        bnd,
        [text_part(plain, "plain", charset, cte), text_part(html, "html", charset, cte)],
    )
    return finish(head.encode() + b"MIME-Version: 1.0\n" + body)


def outlook_mobile(c: Case) -> bytes:
    """Outlook for iOS / Android: base64 UTF-8 parts, "Get Outlook for iOS" line."""
    o = c.original
    r = ids(c.n)
    platform = "Android" if c.client == "outlook-android" else "iOS"
    link = "https://aka.ms/o0ukef" if platform == "iOS" else "https://aka.ms/AAb9ysg"
    get = {
        "nl": f"Outlook voor {platform} downloaden",
        "fr": f"Obtenir Outlook pour {platform}",
        "en": f"Get Outlook for {platform}",
    }[c.lang]
    lang_tag = {"nl": "nl-NL", "fr": "fr-FR", "en": "en-US"}[c.lang]
    plain_block, html_block = outlook_block(c, c.lang, "mobile")
    plain = (
        new_text(c)
        + f"\n\n{get}<{link}>\n________________________________\n"
        + plain_block
        + "\n"
        + o.text
        + "\n"
    )
    html = (
        '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n</head>\n'
        '<body>\n<div dir="auto" style="color: rgb(0, 0, 0); background-color: rgb(255, 255, 255);">'
        + "".join(
            f'<div dir="auto">{esc(ln) if ln.strip() else "<br>"}</div>'
            for ln in new_text(c).split("\n")
        )
        + "</div>\n"
        f'<div id="ms-outlook-mobile-signature" dir="auto"><div><br></div>{esc(get).replace("Outlook", f"<a href={chr(34)}{link}{chr(34)}>Outlook", 1)}</a></div>\n'
        '<hr style="display:inline-block;width:98%" tabindex="-1">\n'
        f'<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">{html_block}</font>\n<div>&nbsp;</div>\n</div>\n'
        + o.html_body
        + "\n</body>\n</html>\n"
    )
    head, bnd = exchange_headers(c, r, lang_tag)
    body = multipart(
        "alternative",
        bnd,
        [
            text_part(plain, "plain", c.charset or "utf-8", c.cte or "base64"),
            text_part(html, "html", c.charset or "utf-8", c.cte or "base64"),
        ],
    )
    return finish(head.encode() + b"MIME-Version: 1.0\n" + body)


# ------------------------------------------------------------------ Gmail


def gmail_attr(
    c: Case, o: Original | None = None, who: str | None = None, when: str | None = None
) -> str:
    o = o or c.original
    who = who or o.from_display
    h, m = o.when
    if c.lang == "nl":
        return f"Op {('ma' if o.day == 23 else 'wo')} {o.day} nov. 2026 om {when or f'{h:02d}:{m:02d}'} schreef {who}:"
    if c.lang == "fr":
        return f"Le {('lun.' if o.day == 23 else 'mer.')} {o.day} nov. 2026 à {when or f'{h:02d}:{m:02d}'}, {who} a écrit :"
    t = when or f"{(h - 1) % 12 + 1}:{m:02d} {'AM' if h < 12 else 'PM'}"
    return f"On {('Mon' if o.day == 23 else 'Wed')}, Nov {o.day}, 2026 at {t} {who} wrote:"


def gmail_wrap_attr(attr: str) -> str:
    """Gmail's text/plain part breaks a long attribution before the address."""
    if len(attr) > 66 and "<" in attr:
        head, _, tail = attr.partition("<")
        return head + "<\n" + tail
    return attr


def gmail_html_attr(attr: str) -> str:
    return re.sub(r"&lt;([^&]+@[^&]+)&gt;", r'&lt;<a href="mailto:\1">\1</a>&gt;', esc(attr))


BQ = '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">'


def gmail(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    android = c.variant == "android"
    dir_attr = 'dir="auto"' if android else 'dir="ltr"'
    attr = gmail_attr(c)
    body_plain = wrap_plain(c.body)
    if c.sig:
        body_plain += "\n\n-- \n" + c.sig
    body_html = f"<div {dir_attr}>" + html_lines(c.body, "div", "") + "</div>"
    if c.sig:
        body_html += (
            '<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br>'
            f'<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature"><div dir="ltr">{html_br(c.sig)}</div></div>'
        )
    if c.inline:
        plain = body_plain + "\n\n" + gmail_wrap_attr(attr) + "\n\n"
        html = (
            body_html
            + '<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
            + gmail_html_attr(attr)
            + "<br></div>"
        )
        for kind, text in inline_segments(c):
            if kind == "q":
                plain += quote_plain(text.strip("\n"), width=76) + "\n"
                html += BQ + html_br(text.strip("\n")) + "</blockquote>"
            else:
                plain += "\n" + wrap_plain(text) + "\n\n"
                html += "<div><br></div>" + html_lines(text) + "<div><br></div>"
        html += "</div>\n"
    elif c.forward:
        f = c.forward
        fw_attr = gmail_attr(c, who=f"{f.colleague.rep} <{f.colleague.email}>", when=f.hour)
        fwd_head = {
            "nl": ("---------- Doorgestuurd bericht ---------", "Van:", "Date:", "Subject:", "To:"),
            "fr": ("---------- Message transféré ---------", "De :", "Date:", "Subject:", "To:"),
            "en": ("---------- Forwarded message ---------", "From:", "Date:", "Subject:", "To:"),
        }[c.lang]
        date_txt = gmail_attr(c).split(",")[0] if c.lang == "en" else ""
        when = {
            "nl": f"ma {o.day} nov. 2026 om {o.when[0]:02d}:{o.when[1]:02d}",
            "fr": f"lun. {o.day} nov. 2026 à {o.when[0]:02d}:{o.when[1]:02d}",
            "en": f"Mon, Nov {o.day}, 2026 at {o.when[0]}:{o.when[1]:02d} AM",
        }[c.lang]
        del date_txt
        fwd_plain = (
            f"{fwd_head[0]}\n{fwd_head[1]} {o.from_display}\n{fwd_head[2]} {when}\n"
            f"{fwd_head[3]} {o.subject}\n{fwd_head[4]} {c.customer.rep} <{c.customer.email}>\n"
        )
        inner_plain = f.note + "\n\n" + fwd_plain + "\n\n" + o.text
        plain = (
            body_plain
            + "\n\n"
            + gmail_wrap_attr(fw_attr)
            + "\n\n"
            + quote_plain(inner_plain, width=76)
            + "\n"
        )
        inner_html = (
            f'<div dir="ltr">{html_br(f.note)}<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
            + html_br(fwd_plain.rstrip("\n")).replace("<br>\n", "<br>")
            + f"<br></div><br><br>{o.html_body}</div></div>"
        )
        html = (
            body_html
            + '<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
            + gmail_html_attr(fw_attr)
            + "<br></div>"
            + BQ
            + inner_html
            + "</blockquote></div>\n"
        )
    else:
        plain = (
            body_plain
            + "\n\n"
            + gmail_wrap_attr(attr)
            + "\n\n"
            + quote_plain(o.text, width=76)
            + "\n"
        )
        html = (
            body_html
            + '<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
            + gmail_html_attr(attr)
            + "<br></div>"
            + BQ
            + o.html_body
            + "</blockquote></div>\n"
        )

    def cte_for(t: str) -> str:
        return c.cte or (
            "quoted-printable"
            if any(ord(ch) > 127 for ch in t) or max(map(len, t.split("\n"))) > 998
            else "7bit"
        )

    bnd = "0000000000" + hexid(r, 18)
    alt = multipart(
        "alternative",
        bnd,
        [
            text_part(plain, "plain", "UTF-8", cte_for(plain)),
            text_part(html, "html", "UTF-8", "quoted-printable"),
        ],
    )
    if c.pdf_bytes:
        bnd2 = "0000000000" + hexid(r, 18)
        fid = "f_m" + alnum(r, 7).lower() + "0"
        att = (
            f'Content-Type: application/pdf; name="{c.pdf_name}"\n'
            f'Content-Disposition: attachment; filename="{c.pdf_name}"\n'
            "Content-Transfer-Encoding: base64\n"
            f"Content-ID: <{fid}>\nX-Attachment-Id: {fid}\n\n"
        ).encode()
        import base64

        att += base64.encodebytes(c.pdf_bytes)
        body = multipart("mixed", bnd2, [alt, att])
    else:
        body = alt
    msgid = f"<CA{alnum(r, 2)}+{alnum(r, 40)}@mail.gmail.com>"
    head = "MIME-Version: 1.0\n"
    head += header("References", parent_id(c)) + header("In-Reply-To", parent_id(c))
    head += header("From", address(c.customer.rep, c.customer.email))
    head += header("Date", reply_date(c))
    head += header("Message-ID", msgid)
    head += header("Subject", subject(c, "plain", fw=bool(c.forward)))
    head += header("To", to_address(c))
    if c.forward:
        head += header("Cc", f"{c.forward.colleague.rep} <{c.forward.colleague.email}>")
    return finish(head.encode() + body)


# ------------------------------------------------------------------ Apple Mail (macOS) and iOS Mail


def apple_attr(c: Case, ios: bool) -> str:
    o = c.original
    t = f"{o.when[0]:02d}:{o.when[1]:02d}"
    who = o.from_display
    if c.lang == "nl":
        if ios:
            return f"Op {o.day} nov 2026 om {t} heeft {who} het volgende geschreven:"
        return f"Op {o.day} nov. 2026, om {t} heeft {who} het volgende geschreven:"
    if c.lang == "fr":
        return f"Le {o.day} nov. 2026 à {t}, {who} a écrit :"
    return f"On {o.day} Nov 2026, at {t}, {who} wrote:"


def apple_uuid(r) -> str:
    return "-".join(hexid(r, k).upper() for k in (8, 4, 4, 4, 12))


def apple_mail(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    attr = apple_attr(c, ios=False)
    plain = new_text(c) + "\n\n" + "> " + attr + "\n> \n" + quote_plain(o.text) + "\n\n"
    new_html = "".join(
        f"<div>{esc(ln) if ln.strip() else '<br>'}</div>" for ln in new_text(c).split("\n")
    )
    quote_html = (
        f'<div><br><blockquote type="cite"><div>{gmail_html_attr(attr)}</div>'
        f'<br class="Apple-interchange-newline"><div>{o.html_body}</div></blockquote></div><br>'
    )
    html_head = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;">'
    )
    bnd = f"Apple-Mail=_{apple_uuid(r)}"
    if c.pdf_bytes:
        bnd2 = f"Apple-Mail=_{apple_uuid(r)}"
        html1 = html_head + new_html + "<div><br></div><div></div></body></html>"
        html2 = (
            '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: after-white-space;"><div></div>'
            + quote_html
            + "</body></html>"
        )
        mixed = multipart(
            "mixed",
            bnd2,
            [
                text_part(html1, "html", "utf-8", "quoted-printable"),
                pdf_part(c.pdf_bytes, c.pdf_name, "apple"),
                text_part(html2, "html", "utf-8", "quoted-printable"),
            ],
        )
        plain = new_text(c) + "\n\n\n" + "> " + attr + "\n> \n" + quote_plain(o.text) + "\n\n"
        body = multipart(
            "alternative", bnd, [text_part(plain, "plain", "utf-8", "quoted-printable"), mixed]
        )
    else:
        html = html_head + new_html + quote_html + "</body></html>"
        body = multipart(
            "alternative",
            bnd,
            [
                text_part(plain, "plain", "utf-8", "quoted-printable"),
                text_part(html, "html", "utf-8", "quoted-printable"),
            ],
        )
    ct_end = body.index(b"\n\n")
    head = body[: ct_end + 1].decode()
    head += "Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3826.300.87.4.3\\))\n"
    head += header("Subject", subject(c, "plain"))
    head += header("From", address(c.customer.rep, c.customer.email))
    head += header("In-Reply-To", o.message_id)
    head += header("Date", reply_date(c))
    head += "Content-Transfer-Encoding: 7bit\n"
    head += header("Message-Id", f"<{apple_uuid(r)}@{c.customer.email.split('@')[1]}>")
    head += header("References", o.message_id)
    head += header("To", address(o.tenant.name, o.reply_to))
    head += "X-Mailer: Apple Mail (2.3826.300.87.4.3)\n"
    return finish(head.encode() + b"\n" + body[ct_end + 2 :])


def ios_mail(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    sent = {
        "nl": "Verzonden vanaf mijn iPhone",
        "fr": "Envoyé de mon iPhone",
        "en": "Sent from my iPhone",
    }[c.lang]
    attr = apple_attr(c, ios=True)
    plain = new_text(c) + "\n\n" + sent + "\n\n> " + attr + "\n> \n" + quote_plain(o.text) + "\n"
    bnd = f"Apple-Mail-{apple_uuid(r)}"
    if c.variant == "plain":
        part = text_part(plain, "plain", "utf-8", "quoted-printable")
        ct_end = part.index(b"\n\n")
        ctype, rest = part[: ct_end + 1], part[ct_end + 2 :]
        body_head = ctype.decode()
        body_rest = rest
    else:
        html = (
            '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head><body dir="auto">'
            + "".join(
                f'<div dir="ltr">{esc(ln) if ln.strip() else "<br>"}</div>'
                for ln in new_text(c).split("\n")
            )
            + f'<div dir="ltr"><br></div><div dir="ltr">{esc(sent)}</div><div dir="ltr"><br>'
            f'<blockquote type="cite">{gmail_html_attr(attr)}<br><br></blockquote></div>'
            f'<blockquote type="cite"><div dir="ltr">{o.html_body}</div></blockquote></body></html>'
        )
        full = multipart(
            "alternative",
            bnd,
            [
                text_part(plain, "plain", "utf-8", "quoted-printable"),
                text_part(html, "html", "utf-8", "quoted-printable"),
            ],
        )
        ct_end = full.index(b"\n\n")
        body_head = full[: ct_end + 1].decode().replace(f'\tboundary="{bnd}"', f"\tboundary={bnd}")
        body_head += "Content-Transfer-Encoding: 7bit\n"
        body_rest = full[ct_end + 2 :]
    head = body_head
    head += header("From", address(c.customer.rep, c.customer.email))
    head += "Mime-Version: 1.0 (1.0)\n"
    head += header("Subject", subject(c, "plain"))
    head += header("Date", reply_date(c))
    head += header("Message-Id", f"<{apple_uuid(r)}@{c.customer.email.split('@')[1]}>")
    head += header("References", o.message_id)
    head += header("In-Reply-To", o.message_id)
    head += header("To", address(o.tenant.name, o.reply_to))
    head += "X-Mailer: iPhone Mail (22B91)\n"
    return finish(head.encode() + b"\n" + body_rest)


# ------------------------------------------------------------------ Thunderbird


def tb_attr(c: Case) -> str:
    o = c.original
    t = f"{o.when[0]:02d}:{o.when[1]:02d}"
    return {
        "nl": f"Op {o.day}-11-2026 om {t} schreef {o.tenant.name}:",
        "fr": f"Le {o.day}/11/2026 à {t}, {o.tenant.name} a écrit :",
        "en": f"On {o.day}/11/2026 {t}, {o.tenant.name} wrote:",
    }[c.lang]


def thunderbird(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    attr = tb_attr(c)
    sig_plain = f"\n-- \n{c.sig}" if c.sig else ""
    if c.inline:
        parts_plain = [flowed(c.body), "", attr]
        for kind, text in inline_segments(c):
            if kind == "q":
                parts_plain.append(flowed(text.strip("\n"), prefix="> "))
            else:
                parts_plain += ["", flowed(text), ""]
        plain = "\n".join(parts_plain) + "\n" + sig_plain
    elif c.variant == "bottom":
        plain = (
            attr + "\n" + flowed(o.text, prefix="> ") + "\n\n" + flowed(c.body) + "\n" + sig_plain
        )
    else:
        plain = (
            flowed(c.body) + "\n\n" + attr + "\n" + flowed(o.text, prefix="> ") + "\n" + sig_plain
        )
    non_ascii = any(ord(ch) > 127 for ch in plain)
    cte = c.cte or ("8bit" if non_ascii else "7bit")
    msgid = f"<{hexid(r, 8)}-{hexid(r, 4)}-{hexid(r, 4)}-{hexid(r, 4)}-{hexid(r, 12)}@{c.customer.email.split('@')[1]}>"
    head = header("Message-ID", msgid)
    head += header("Date", reply_date(c))
    head += "MIME-Version: 1.0\nUser-Agent: Mozilla Thunderbird\n"
    head += header("Subject", subject(c, "plain"))
    head += f"Content-Language: {c.lang}\n" if c.lang != "en" else "Content-Language: en-GB\n"
    head += header("To", address(o.tenant.name, o.reply_to))
    head += header("References", o.message_id)
    head += header("From", address(c.customer.rep, c.customer.email))
    head += header("In-Reply-To", o.message_id)
    if c.variant == "html":
        html = (
            '<!DOCTYPE html>\n<html>\n  <head>\n\n    <meta http-equiv="content-type" content="text/html; charset=UTF-8">\n  </head>\n  <body>\n'
            f"    <p>{html_br(c.body).replace(chr(10), chr(10) + '      ')}</p>\n"
            f'    <div class="moz-cite-prefix">{esc(attr)}<br>\n    </div>\n'
            f'    <blockquote type="cite" cite="mid:{o.message_id[1:-1]}">{o.html_body}</blockquote>\n'
            + (
                f'    <div class="moz-signature">-- <br>\n      {html_br(c.sig)}</div>\n'
                if c.sig
                else ""
            )
            + "  </body>\n</html>\n"
        )
        bnd = "------------" + alnum(r, 24)
        body = multipart(
            "alternative",
            bnd,
            [
                text_part(plain, "plain", "UTF-8", cte, "; format=flowed"),
                text_part(html, "html", "UTF-8", cte),
            ],
        )
        return finish(head.encode() + body)
    head += "Content-Type: text/plain; charset=UTF-8; format=flowed\n"
    head += f"Content-Transfer-Encoding: {cte}\n\n"
    from mailkit import encode_body

    return finish(head.encode() + encode_body(plain + "\n", "utf-8", cte))


# ------------------------------------------------------------------ Samsung Email (Android)


def samsung(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    sent = {
        "nl": "Verzonden vanaf mijn Samsung Galaxy-smartphone.",
        "fr": "Envoyé depuis mon smartphone Samsung Galaxy.",
        "en": "Sent from my Galaxy",
    }[c.lang]
    t = f"{o.when[0]:02d}:{o.when[1]:02d}"
    hdr = {
        "nl": (
            "-------- Oorspronkelijk bericht --------",
            "Van:",
            f"Datum: {o.day}-11-26 {t} (GMT+01:00)",
            "Aan:",
            "Onderwerp:",
        ),
        "fr": (
            "-------- Message d'origine --------",
            "De :",
            f"Date : {o.day}/11/2026 {t} (GMT+01:00)",
            "À :",
            "Objet :",
        ),
        "en": (
            "-------- Original message --------",
            "From:",
            f"Date: 11/{o.day}/26 {t} (GMT+01:00)",
            "To:",
            "Subject:",
        ),
    }[c.lang]
    orig_head = f"{hdr[0]}\n{hdr[1]} {o.from_display} \n{hdr[2]} \n{hdr[3]} {c.customer.email} \n{hdr[4]} {o.subject} \n"
    plain = new_text(c) + "\n\n\n\n" + sent + "\n\n" + orig_head + "\n" + o.text + "\n"
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body dir="auto">'
        + "".join(
            f'<div dir="auto">{esc(ln) if ln.strip() else "<br>"}</div>'
            for ln in new_text(c).split("\n")
        )
        + '<div dir="auto"><br></div><div dir="auto"><br></div><div id="composer_signature" dir="auto">'
        f'<div style="font-size:85%;color:#575757" dir="auto">{esc(sent)}</div></div><div dir="auto"><br></div><div><br></div>'
        '<div align="left" dir="auto" style="font-size:100%;color:#000000">'
        + "".join(f"<div>{esc(ln)}</div>" for ln in orig_head.rstrip("\n").split("\n"))
        + "</div>"
        + o.html_body
        + "</body></html>"
    )
    bnd = f"--_com.samsung.android.email_{r.randrange(10**14):014d}{r.randrange(100):02d}0"
    body = multipart(
        "alternative",
        bnd,
        [text_part(plain, "plain", "UTF-8", "base64"), text_part(html, "html", "UTF-8", "base64")],
    )
    msgid = f"<{alnum(r, 8).lower()}-{alnum(r, 6).lower()}.{r.randrange(10**12)}@email.android.com>"
    head = header("Message-ID", msgid)
    head += header("Date", reply_date(c))
    head += "X-Android-Message-ID: " + msgid + "\n"
    head += header("In-Reply-To", o.message_id)
    head += header("Subject", subject(c, "plain"))
    head += header("From", address(c.customer.rep, c.customer.email))
    head += header("To", address(o.tenant.name, o.reply_to))
    head += "Importance: Normal\nX-Priority: 3\nX-MSMail-Priority: Normal\nMIME-Version: 1.0\n"
    return finish(head.encode() + body)


# ------------------------------------------------------------------ Outlook 2010 plain text ("-----Original Message-----")


def outlook_2010(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    charset = c.charset or "windows-1252"
    cte = c.cte or "quoted-printable"
    sep = {
        "nl": "-----Oorspronkelijk bericht-----",
        "fr": "-----Message d'origine-----",
        "en": "-----Original Message-----",
    }[c.lang]
    block, _ = outlook_block(c, c.lang, "2010")
    plain = new_text(c) + "\n\n" + sep + "\n" + block + "\n" + o.text + "\n"
    head = header("From", address(c.customer.rep, c.customer.email, charset), charset)
    head += header("To", address(o.tenant.name, o.reply_to, charset), charset)
    head += header("References", o.message_id) + header("In-Reply-To", o.message_id)
    head += header("Subject", subject(c, "outlook"), charset)
    head += header("Date", reply_date(c))
    head += header(
        "Message-ID",
        f"<{hexid(r, 12)}${hexid(r, 8)}${hexid(r, 8)}@{c.customer.email.split('@')[1]}>",
    )
    head += "MIME-Version: 1.0\n"
    head += f'Content-Type: text/plain;\n\tcharset="{charset}"\nContent-Transfer-Encoding: {cte}\n'
    head += "X-Mailer: Microsoft Office Outlook 12.0\n"
    head += f"Thread-Index: Ac{alnum(r, 22)}\nContent-Language: {dict(nl='nl-be', fr='fr-be', en='en-us')[c.lang]}\n\n"
    from mailkit import encode_body

    return finish(head.encode() + encode_body(plain, charset, cte))


# ------------------------------------------------------------------ Zimbra webmail (HTML only)


def zimbra(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    names = {
        "nl": ("Van: ", "Aan: ", "Verzonden: ", "Onderwerp: "),
        "fr": ("De: ", "À: ", "Envoyé: ", "Objet: "),
        "en": ("From: ", "To: ", "Sent: ", "Subject: "),
    }[c.lang]
    sent = {
        "nl": f"Maandag {o.day} november 2026 {o.when[0]:02d}:{o.when[1]:02d}:47",
        "fr": f"Lundi {o.day} Novembre 2026 {o.when[0]:02d}:{o.when[1]:02d}:47",
        "en": f"Monday, November {o.day}, 2026 {o.when[0]}:{o.when[1]:02d}:47 AM",
    }[c.lang]
    html = (
        '<html><body><div style="font-family: arial, helvetica, sans-serif; font-size: 12pt; color: #000000">'
        + "".join(
            "<div>" + (esc(ln) if ln.strip() else '<br data-mce-bogus="1">') + "</div>"
            for ln in new_text(c).split("\n")
        )
        + '<div><br></div><hr id="zwchr" data-marker="__DIVIDER__"><div data-marker="__HEADERS__">'
        f'<b>{names[0]}</b>"{esc(o.tenant.name)}" &lt;{o.tenant.address}&gt;<br><b>{names[1]}</b>"{esc(c.customer.rep)}" &lt;{c.customer.email}&gt;<br>'
        f"<b>{names[2]}</b>{sent}<br><b>{names[3]}</b>{esc(o.subject)}<br></div><br>"
        f'<div data-marker="__QUOTED_TEXT__">{o.html_body}</div></div></body></html>'
    )
    head = header("Date", reply_date(c))
    head += header("From", address(c.customer.rep, c.customer.email))
    head += header("To", address(o.tenant.name, o.reply_to))
    head += header(
        "Message-ID",
        f"<{r.randrange(10**9)}.{r.randrange(10**8)}.{r.randrange(10**13)}.JavaMail.zimbra@{c.customer.email.split('@')[1]}>",
    )
    head += header("In-Reply-To", o.message_id)
    head += header("References", o.message_id)
    head += header("Subject", subject(c, "plain"))
    head += "MIME-Version: 1.0\n"
    head += "X-Mailer: Zimbra 9.0.0_GA_4546 (ZimbraWebClient - GC131 (Win)/9.0.0_GA_4546)\n"
    head += f"Thread-Topic: {o.subject.encode('ascii', 'replace').decode()}\n" if False else ""
    return finish(head.encode() + text_part(html, "html", "utf-8", "quoted-printable"))


CLIENTS = {
    "outlook-desktop": outlook_desktop,
    "outlook-web": outlook_web,
    "outlook-ios": outlook_mobile,
    "outlook-android": outlook_mobile,
    "gmail": gmail,
    "apple-mail": apple_mail,
    "ios-mail": ios_mail,
    "thunderbird": thunderbird,
    "samsung-email": samsung,
    "outlook-2010": outlook_2010,
    "zimbra": zimbra,
}
