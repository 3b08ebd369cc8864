"""Mail no human typed: out-of-office replies and delivery status notifications (bounces)."""

from __future__ import annotations

from email.message import EmailMessage

from clients import Case, exchange_headers, reply_date
from mailkit import address, alnum, esc, finish, header, hexid, html_br, ids, multipart, text_part


def dpabot_mail(c: Case) -> bytes:
    """The invitation as dpabot sent it (what a bounce returns), without the PDF."""
    o = c.original
    msg = EmailMessage()
    msg["From"] = f"{o.tenant.name} <{o.tenant.address}>"
    msg["To"] = c.customer.email
    msg["Reply-To"] = o.reply_to
    msg["Subject"] = o.subject
    msg["Date"] = o.date_rfc
    msg["Message-ID"] = o.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Dpabot-Kind"] = o.kind
    msg.set_content(o.text + "\n")
    msg.add_alternative(o.html_full, subtype="html")
    msg.set_boundary(
        "===============" + "".join(str(ids(c.n + 500).randrange(10)) for _ in range(19)) + "=="
    )
    return bytes(msg).replace(b"\r\n", b"\n")


# ------------------------------------------------------------------ out of office

OOF_TEXT = {
    "nl": "Beste,\n\nBedankt voor uw bericht. Ik ben met vakantie tot en met 4 december 2026 en lees mijn e-mails niet.\nVoor dringende zaken kunt u bellen naar 011 22 33 44.\n\nMet vriendelijke groeten,\n{rep}",
    "fr": "Bonjour,\n\nMerci pour votre message. Je suis absente du bureau jusqu'au 4 décembre 2026 inclus, avec un accès limité à mes e-mails.\nPour toute urgence, veuillez contacter le salon au 02 345 67 89.\n\nCordialement,\n{rep}",
    "en": "Hello,\n\nThank you for your email. I am out of the office until 1 December 2026 with no access to email.\nFor urgent matters please call the salon on +32 3 456 78 90.\n\nKind regards,\n{rep}",
}


def exchange_autoreply(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    prefix = {
        "nl": "Automatisch antwoord: ",
        "fr": "Réponse automatique : ",
        "en": "Automatic reply: ",
    }[c.lang]
    text = c.body or OOF_TEXT[c.lang].format(rep=c.customer.rep)
    html = (
        '<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n</head>\n'
        '<body>\n<div style="font-family: Aptos, Calibri, Helvetica, sans-serif; font-size: 12pt;">'
        + html_br(text)
        + "</div>\n</body>\n</html>\n"
    )
    head, bnd = exchange_headers(c, r, {"nl": "nl-BE", "fr": "fr-BE", "en": "en-GB"}[c.lang])
    # An out-of-office reply answers the envelope sender with the original's subject.
    lines = [ln for ln in head.split("\n") if not ln.startswith(("To:", "Subject:", " "))]
    head = "\n".join(lines).rstrip("\n") + "\n"
    head = (
        header("Subject", prefix + o.subject, "utf-8")
        + header("To", address(o.tenant.name, o.tenant.address))
        + head
    )
    head += "Auto-Submitted: auto-generated\nX-Auto-Response-Suppress: All\n"
    head += (
        "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n"
        if c.variant == "rule"
        else ""
    )
    body = multipart(
        "alternative",
        bnd,
        [
            text_part(text + "\n", "plain", "utf-8", "base64"),
            text_part(html, "html", "utf-8", "base64"),
        ],
    )
    return finish(head.encode() + b"MIME-Version: 1.0\n" + body)


def gmail_vacation(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    text = c.body or OOF_TEXT[c.lang].format(rep=c.customer.rep)
    html = '<div dir="ltr">' + html_br(text) + "</div>\n"
    bnd = "0000000000" + hexid(r, 18)
    body = multipart(
        "alternative",
        bnd,
        [
            text_part(
                text + "\n", "plain", "UTF-8", "7bit" if text.isascii() else "quoted-printable"
            ),
            text_part(html, "html", "UTF-8", "7bit" if html.isascii() else "quoted-printable"),
        ],
    )
    subj = {
        "nl": "Afwezig tot 4 december",
        "fr": "Absente jusqu'au 4 décembre",
        "en": "Out of office until 1 December",
    }[c.lang]
    head = "MIME-Version: 1.0\n"
    head += header("References", o.message_id) + header("In-Reply-To", o.message_id)
    head += header("From", address(c.customer.rep, c.customer.email))
    head += header("Date", reply_date(c))
    head += header("Message-ID", f"<CA{alnum(r, 2)}+{alnum(r, 40)}@mail.gmail.com>")
    head += header("Subject", subj)
    head += header("To", address(o.tenant.name, o.reply_to))
    head += "Auto-Submitted: auto-replied\n"
    return finish(head.encode() + body)


def sieve_vacation(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    text = c.body or OOF_TEXT[c.lang].format(rep=c.customer.rep)
    head = header("Return-Path", "<>")
    head += header(
        "Message-ID",
        f"<dovecot-sieve-{r.randrange(10**10)}-{r.randrange(10**6)}-0@mail.{c.customer.email.split('@')[1]}>",
    )
    head += header("Date", reply_date(c))
    head += header("X-Sieve", "Pigeonhole Sieve 0.5.21 (f6cd4b8e)")
    head += header("From", f"<{c.customer.email}>")
    head += header("To", f"<{o.tenant.address}>")
    head += header("Subject", {"nl": "Afwezig", "fr": "Absent", "en": "Away"}[c.lang])
    head += header("In-Reply-To", o.message_id) + header("References", o.message_id)
    head += "Auto-Submitted: auto-replied (vacation)\nPrecedence: bulk\nMIME-Version: 1.0\n"
    return finish(head.encode() + text_part(text + "\n", "plain", "utf-8", "quoted-printable"))


def webmail_autoreply(c: Case) -> bytes:
    """A hosting webmail's responder: no Auto-Submitted header, only X-Autoreply and the words."""
    o = c.original
    r = ids(c.n)
    text = c.body or OOF_TEXT[c.lang].format(rep=c.customer.rep)
    subj = {"nl": "Afwezigheidsmelding", "fr": "Message d'absence", "en": "Absence notice"}[c.lang]
    head = header("From", address(c.customer.rep, c.customer.email))
    head += header("To", o.reply_to)
    head += header("Subject", f"{subj}: {o.subject}", "iso-8859-1")
    head += header("Date", reply_date(c))
    head += header("Message-ID", f"<autoreply.{hexid(r, 16)}@{c.customer.email.split('@')[1]}>")
    head += header("In-Reply-To", o.message_id)
    head += "X-Autoreply: yes\nMIME-Version: 1.0\n"
    return finish(head.encode() + text_part(text + "\n", "plain", "iso-8859-1", "quoted-printable"))


# ------------------------------------------------------------------ bounces


def dsn_status(c: Case, mta: str, reporting: str, status: str, diag: str, arrival: str) -> bytes:
    txt = (
        f"Reporting-MTA: dns; {reporting}\n"
        + (
            f"X-Postfix-Queue-ID: {mta}\nX-Postfix-Sender: rfc822; {c.original.tenant.address}\n"
            if mta
            else ""
        )
        + f"Arrival-Date: {arrival}\n\n"
        f"Final-Recipient: rfc822; {c.customer.email}\n"
        f"Original-Recipient: rfc822;{c.customer.email}\n"
        f"Action: failed\nStatus: {status}\n"
        f"Remote-MTA: dns; mx.{c.customer.email.split('@')[1]}\n"
        f"Diagnostic-Code: smtp; {diag}\n"
    )
    return (
        b"Content-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
        + txt.encode()
    )


def postfix_dsn(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    qid = alnum(r, 10)
    host = "mx." + o.tenant.address.split("@")[1]
    notice = (
        f"This is the mail system at host {host}.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients. It's attached below.\n\n"
        "For further assistance, please send mail to postmaster.\n\n"
        "If you do so, please include this problem report. You can\n"
        "delete your own text from the attached returned message.\n\n"
        "                   The mail system\n\n"
        f"<{c.customer.email}>: host mx.{c.customer.email.split('@')[1]}[192.0.2.25] said: 550 5.1.1\n"
        f"    <{c.customer.email}>: Recipient address rejected: User unknown in virtual\n"
        "    mailbox table (in reply to RCPT TO command)\n"
    )
    bnd = f"{qid}.{1764000000 + r.randrange(10**5)}/{host}"
    parts = [
        b"Content-Description: Notification\nContent-Type: text/plain; charset=us-ascii\n\n"
        + notice.encode(),
        dsn_status(
            c,
            qid,
            host,
            "5.1.1",
            f"550 5.1.1 <{c.customer.email}>: Recipient address rejected: User unknown in virtual mailbox table",
            o.date_rfc,
        ),
        b"Content-Description: Undelivered Message\nContent-Type: message/rfc822\n\n"
        + dpabot_mail(c),
    ]
    head = header("Return-Path", "<>")
    head += header("Date", reply_date(c))
    head += header("From", f"MAILER-DAEMON@{host} (Mail Delivery System)")
    head += header("Subject", "Undelivered Mail Returned to Sender")
    head += header("To", o.tenant.address)
    head += "Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
    head += f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{bnd}"\n'
    head += "Content-Transfer-Encoding: 8bit\n"
    head += header("Message-Id", f"<20261124{r.randrange(10**6):06d}.{qid}@{host}>")
    body = multipart("report", bnd, parts).split(b"\n\n", 1)[1]
    return finish(head.encode() + b"\nThis is a MIME-encapsulated message.\n\n" + body)


NDR = {
    "nl": (
        "Onbestelbaar: ",
        "Uw bericht kan niet worden bezorgd bij {to}. Het postvak van de ontvanger is vol en kan momenteel geen berichten meer ontvangen. Probeer het later opnieuw of neem op een andere manier contact op met de ontvanger.",
    ),
    "fr": (
        "Non remis : ",
        "Votre message n'a pas pu être remis à {to}. La boîte aux lettres du destinataire est pleine et ne peut pas accepter de messages pour le moment. Réessayez plus tard ou contactez le destinataire par un autre moyen.",
    ),
    "en": (
        "Undeliverable: ",
        "Your message to {to} couldn't be delivered. The recipient's mailbox is full and can't accept messages now. Please try resending your message later, or contact the recipient directly.",
    ),
}


def exchange_ndr(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    prefix, words = NDR[c.lang]
    text = (
        words.format(to=c.customer.email)
        + f"\n\n{c.customer.email}\nRemote server returned '554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException'\n"
    )
    html = f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><p>{esc(words.format(to=c.customer.email))}</p><p><b>{esc(c.customer.email)}</b></p></body></html>\n'
    bnd_alt = f"_000_{alnum(r, 24)}_"
    bnd = f"_{alnum(r, 6)}-{alnum(r, 4)}_"
    alt = multipart(
        "alternative",
        bnd_alt,
        [
            text_part(text, "plain", "utf-8", "quoted-printable"),
            text_part(html, "html", "utf-8", "quoted-printable"),
        ],
    )
    parts = [
        alt,
        dsn_status(
            c,
            "",
            f"AM9PR04MB{r.randrange(10000)}.eurprd04.prod.outlook.com",
            "5.2.2",
            "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException",
            o.date_rfc,
        ),
        b"Content-Type: message/rfc822\n\n" + dpabot_mail(c),
    ]
    dom = c.customer.email.split("@")[1]
    head = header("From", f"Microsoft Outlook <postmaster@{dom}>")
    head += header("To", f"<{o.tenant.address}>")
    head += header("Date", reply_date(c))
    head += header("Subject", prefix + o.subject, "utf-8")
    head += header(
        "Message-ID",
        f"<{hexid(r, 8)}-{hexid(r, 4)}-{hexid(r, 4)}-{hexid(r, 4)}-{hexid(r, 12)}@AM9PR04MB{r.randrange(10000)}.eurprd04.prod.outlook.com>",
    )
    head += header("In-Reply-To", o.message_id) + header("References", o.message_id)
    head += "Auto-Submitted: auto-replied\nX-MS-Exchange-Message-Is-Ndr: \nMIME-Version: 1.0\n"
    rep = multipart("report", bnd, parts, extra=" report-type=delivery-status;")
    return finish(head.encode() + rep)


def gmail_dsn(c: Case) -> bytes:
    o = c.original
    r = ids(c.n)
    dom = c.customer.email.split("@")[1]
    text = (
        "\n** Address not found **\n\n"
        f"Your message wasn't delivered to {c.customer.email} because the domain {dom} couldn't be found. "
        "Check for typos or unnecessary spaces and try again.\n\n"
        "Learn more here: https://support.google.com/mail/?p=BadRcptDomain\n\n"
        "The response was:\n\n"
        f"DNS Error: DNS type 'mx' lookup of {dom} responded with code NXDOMAIN\n"
        f"Domain name not found: {dom}\n"
    )
    bnd = "0000000000" + hexid(r, 18)
    parts = [
        text_part(text, "plain", "UTF-8", "7bit"),
        dsn_status(
            c,
            "",
            "googlemail.com",
            "5.1.2",
            f"DNS Error: DNS type 'mx' lookup of {dom} responded with code NXDOMAIN",
            o.date_rfc,
        ).replace(b"Content-Description: Delivery report\n", b""),
        b"Content-Type: message/rfc822\n\n" + dpabot_mail(c),
    ]
    head = "Delivered-To: " + o.tenant.address + "\n"
    head += header("Return-Path", "<>")
    head += header("From", "Mail Delivery Subsystem <mailer-daemon@googlemail.com>")
    head += header("To", o.tenant.address)
    head += "Auto-Submitted: auto-replied\n"
    head += header("Subject", "Delivery Status Notification (Failure)")
    head += header("References", o.message_id) + header("In-Reply-To", o.message_id)
    head += "X-Failed-Recipients: " + c.customer.email + "\n"
    head += header("Message-ID", f"<{alnum(r, 12).lower()}.{r.randrange(10**6)}.mx.google.com>")
    head += header("Date", reply_date(c))
    head += "MIME-Version: 1.0\n"
    rep = multipart("report", bnd, parts, extra=" report-type=delivery-status;")
    return finish(head.encode() + rep)


ROBOTS = {
    "exchange-autoreply": exchange_autoreply,
    "gmail-vacation": gmail_vacation,
    "sieve-vacation": sieve_vacation,
    "webmail-autoreply": webmail_autoreply,
    "postfix-dsn": postfix_dsn,
    "exchange-ndr": exchange_ndr,
    "gmail-dsn": gmail_dsn,
}
