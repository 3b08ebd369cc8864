"""Check a contract the customer signed with their own certificate (eID, any PAdES tool).

dpabot accepts the returned PDF only if

1. its last signature is the customer's (not the processor's certification),
2. that signature covers the whole file (nothing appended after it),
3. the signed bytes start with exactly the PDF dpabot sent, and the customer's signature is
   the only revision added to it,
4. the signature is cryptographically intact and its chain reaches one of the tenant's
   trust roots,
5. the rendered pages equal those of the sent PDF outside the new signature's widgets,
6. the certificate names the invited representative (CN) or carries the invited email;
   otherwise staff may confirm the signer in chat.

pyHanko's diff policy is not used for the verdict: other tools (poppler's pdfsig, Acrobat)
renumber or reuse objects and add ``/M`` to the field, which the policy rates as illegal
modifications of the processor's certification. Steps 3 and 5 replace it.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko_certvalidator import ValidationContext

from signing.page_compare import Refused, check_pages, widget_masks

from .pades import FIELD_PROCESSOR

__all__ = ["REASONS", "ReturnedVerdict", "check_returned_pdf"]

log = logging.getLogger(__name__)


# Customer-facing sentences: no internal details, one clear next step.
REASONS: dict[str, dict[str, str]] = {
    "ok": {
        "nl": "Dank u: uw handtekening is ontvangen en gecontroleerd.",
        "fr": "Merci : votre signature a été reçue et vérifiée.",
        "en": "Thank you: your signature has been received and verified.",
    },
    "unreadable": {
        "nl": "We konden de teruggestuurde PDF niet lezen. Stuur de ondertekende PDF opnieuw als "
        "bijlage, zonder hem te wijzigen.",
        "fr": "Nous n'avons pas pu lire le PDF renvoyé. Renvoyez le PDF signé en pièce jointe, "
        "sans le modifier.",
        "en": "We could not read the PDF you sent back. Please send the signed PDF again as an "
        "attachment, without changing it.",
    },
    "no_customer_signature": {
        "nl": "De teruggestuurde PDF bevat geen handtekening van u. Onderteken de PDF die we u "
        "stuurden met uw certificaat (bijvoorbeeld uw eID) en stuur hem terug.",
        "fr": "Le PDF renvoyé ne contient pas votre signature. Signez le PDF que nous vous avons "
        "envoyé avec votre certificat (par exemple votre eID) et renvoyez-le.",
        "en": "The PDF you sent back does not contain your signature. Please sign the PDF we sent "
        "you with your certificate (for example your eID) and send it back.",
    },
    "appended_after_signature": {
        "nl": "De PDF werd gewijzigd nadat u hem ondertekende. Onderteken de PDF die we u "
        "stuurden opnieuw en stuur hem daarna ongewijzigd terug.",
        "fr": "Le PDF a été modifié après votre signature. Signez à nouveau le PDF que nous vous "
        "avons envoyé et renvoyez-le ensuite sans autre modification.",
        "en": "The PDF was changed after you signed it. Please sign the PDF we sent you again and "
        "send it back without further changes.",
    },
    "not_sent_version": {
        "nl": "De ondertekende PDF is niet exact de versie die we u stuurden. Onderteken de PDF "
        "uit onze laatste e-mail, zonder hem te wijzigen, en stuur hem terug.",
        "fr": "Le PDF signé n'est pas exactement la version que nous vous avons envoyée. Signez "
        "le PDF de notre dernier e-mail, sans le modifier, et renvoyez-le.",
        "en": "The signed PDF is not exactly the version we sent you. Please sign the PDF from "
        "our last email, without changing it, and send it back.",
    },
    "changed_before_signing": {
        "nl": "De PDF werd gewijzigd voordat hij ondertekend werd. Onderteken de PDF uit onze "
        "laatste e-mail zonder hem eerst te wijzigen, en stuur hem terug.",
        "fr": "Le PDF a été modifié avant d'être signé. Signez le PDF de notre dernier e-mail "
        "sans le modifier au préalable, et renvoyez-le.",
        "en": "The PDF was changed before it was signed. Please sign the PDF from our last email "
        "without changing it first, and send it back.",
    },
    "signature_invalid": {
        "nl": "Uw handtekening kon niet gecontroleerd worden: ze is beschadigd of past niet bij "
        "het document. Onderteken de PDF die we u stuurden opnieuw.",
        "fr": "Votre signature n'a pas pu être vérifiée : elle est endommagée ou ne correspond "
        "pas au document. Signez à nouveau le PDF que nous vous avons envoyé.",
        "en": "Your signature could not be verified: it is damaged or does not match the "
        "document. Please sign the PDF we sent you again.",
    },
    "untrusted_certificate": {
        "nl": "Het certificaat waarmee u ondertekende, wordt door ons niet aanvaard (het komt "
        "niet van een erkende certificaatautoriteit). Onderteken met uw eID of een ander "
        "erkend certificaat, of antwoord AKKOORD op onze e-mail.",
        "fr": "Le certificat utilisé pour signer n'est pas accepté (il ne provient pas d'une "
        "autorité de certification reconnue). Signez avec votre eID ou un autre certificat "
        "reconnu, ou répondez D'ACCORD à notre e-mail.",
        "en": "The certificate you signed with is not one we can accept (it does not come from a "
        "recognised certificate authority). Please sign with your eID or another recognised "
        "certificate, or reply I AGREE to our email.",
    },
    "pages_changed": {
        "nl": "De inhoud van de ondertekende PDF verschilt van de versie die we u stuurden. "
        "Onderteken de PDF uit onze laatste e-mail zonder hem te wijzigen.",
        "fr": "Le contenu du PDF signé diffère de la version que nous vous avons envoyée. Signez "
        "le PDF de notre dernier e-mail sans le modifier.",
        "en": "The content of the signed PDF differs from the version we sent you. Please sign "
        "the PDF from our last email without changing it.",
    },
    "signer_mismatch": {
        "nl": "Uw handtekening is geldig, maar het certificaat staat niet op naam van de "
        "persoon die we uitnodigden. Een medewerker kijkt dit na en neemt contact met u op.",
        "fr": "Votre signature est valide, mais le certificat n'est pas au nom de la personne "
        "que nous avons invitée. Un collaborateur vérifie et vous recontacte.",
        "en": "Your signature is valid, but the certificate is not in the name of the person we "
        "invited. A member of our team will check this and get back to you.",
    },
}


@dataclass
class ReturnedVerdict:
    """The outcome of :func:`check_returned_pdf`."""

    ok: bool
    reason_code: str
    reason: dict[str, str]  # lang (nl/fr/en) → sentence for the customer
    staff_detail: str  # precise, for staff and logs; never sent to the customer
    signer_cn: str | None = None
    signer_email: str | None = None
    cert_sha256: str | None = None
    needs_staff_confirmation: bool = False  # chain and bytes fine, name/email do not match
    signature_field: str | None = None
    signer_emails: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason_code": self.reason_code,
            "reason": dict(self.reason),
            "staff_detail": self.staff_detail,
            "signer_cn": self.signer_cn,
            "signer_email": self.signer_email,
            "cert_sha256": self.cert_sha256,
            "needs_staff_confirmation": self.needs_staff_confirmation,
            "signature_field": self.signature_field,
        }


# -- signer identity -----------------------------------------------------------------------

# Belgian eID signing certificates are named "Given Surname (Signature)".
_CN_SUFFIX = re.compile(r"\s*\((signature|authentication)\)\s*$", re.IGNORECASE)


def _normalise_name(value: str) -> str:
    value = _CN_SUFFIX.sub("", value)
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().replace("-", " ").split())


def _cert_names(cert: asn1_x509.Certificate) -> list[str]:
    subject = cert.subject.native
    names = []
    if subject.get("common_name"):
        names.append(str(subject["common_name"]))
    given, surname = subject.get("given_name"), subject.get("surname")
    if given and surname:
        names += [f"{given} {surname}", f"{surname} {given}"]
    return names


def _cert_emails(cert: asn1_x509.Certificate) -> list[str]:
    emails: list[str] = []
    subject_email = cert.subject.native.get("email_address")
    if isinstance(subject_email, str):
        emails.append(subject_email)
    elif isinstance(subject_email, list | tuple):
        emails += [str(e) for e in subject_email]
    for general_name in cert.subject_alt_name_value or []:
        if general_name.name == "rfc822_name":
            emails.append(str(general_name.native))
    return list(dict.fromkeys(emails))


def _signer_matches(cert: asn1_x509.Certificate, name: str, email: str) -> bool:
    wanted_name = _normalise_name(name) if name.strip() else None
    if wanted_name and any(_normalise_name(n) == wanted_name for n in _cert_names(cert)):
        return True
    wanted_email = email.strip().casefold()
    return bool(wanted_email) and any(e.casefold() == wanted_email for e in _cert_emails(cert))


# -- byte checks ---------------------------------------------------------------------------


def _read(pdf: bytes, what: str) -> PdfFileReader:
    try:
        # strict=False: poppler's output has "orphaned generation" quirks pyHanko rejects.
        return PdfFileReader(BytesIO(pdf), strict=False)
    except Exception as exc:  # pyHanko raises many types on malformed input
        raise Refused("unreadable", f"The {what} PDF could not be parsed: {exc}") from exc


def _customer_signature(reader: PdfFileReader) -> EmbeddedPdfSignature:
    try:
        sigs = list(reader.embedded_regular_signatures)
    except Exception as exc:  # pyHanko raises many types on malformed input
        raise Refused("unreadable", f"The signatures could not be read: {exc}") from exc
    if not sigs:
        raise Refused("no_customer_signature", "The returned PDF contains no signature.")
    last = max(sigs, key=lambda s: s.signed_revision)
    if last.field_name == FIELD_PROCESSOR:
        raise Refused(
            "no_customer_signature",
            f"The last signature is the processor's ({FIELD_PROCESSOR!r}); "
            "the customer did not add one.",
        )
    return last


def _check_bytes(
    sent: bytes, sent_revisions: int, returned: bytes, sig: EmbeddedPdfSignature
) -> None:
    byte_range = [int(v) for v in sig.sig_object["/ByteRange"]]
    if len(byte_range) != 4 or byte_range[0] != 0:
        raise Refused(
            "signature_invalid",
            f"Signature {sig.field_name!r} has an unusual /ByteRange {byte_range}.",
        )
    _, first_len, second_start, second_len = byte_range
    signed_end = second_start + second_len
    if signed_end != len(returned):
        raise Refused(
            "appended_after_signature",
            f"Signature {sig.field_name!r} covers bytes 0..{signed_end} but the file has "
            f"{len(returned)} bytes: {len(returned) - signed_end} bytes were appended after it.",
        )
    if len(sent) > first_len or returned[: len(sent)] != sent:
        first_diff = next(
            (i for i, (a, b) in enumerate(zip(sent, returned, strict=False)) if a != b),
            min(len(sent), len(returned)),
        )
        raise Refused(
            "not_sent_version",
            f"The signed data does not start with the {len(sent)} bytes that were sent "
            f"(first difference at byte {first_diff}; signed range before the signature "
            f"value: {first_len} bytes).",
        )
    if sig.signed_revision != sent_revisions:
        raise Refused(
            "changed_before_signing",
            f"The sent PDF has {sent_revisions} revision(s) but signature {sig.field_name!r} "
            f"is in revision {sig.signed_revision + 1}: "
            f"{sig.signed_revision - sent_revisions} other revision(s) were added before it.",
        )


# -- cryptographic and chain checks --------------------------------------------------------


async def _check_signature(
    sig: EmbeddedPdfSignature,
    trust_roots: Sequence[asn1_x509.Certificate],
    allow_fetching: bool,
) -> None:
    # Revocation is soft-fail: customers' tools (pdfsig, many eID set-ups) embed no
    # revocation info, so a missing or unreachable OCSP/CRL must not refuse a signature;
    # a certificate positively reported revoked still fails. The archive's LTA step later
    # adds the validation data dpabot could fetch.
    vc = ValidationContext(
        trust_roots=list(trust_roots),
        allow_fetching=allow_fetching,
        revocation_mode="soft-fail",
    )
    try:
        # skip_diff: the customer's signature is the last revision (checked above), and the
        # diff policy misjudges other tools' updates; bytes and pixels are compared instead.
        status = await async_validate_pdf_signature(
            sig, signer_validation_context=vc, skip_diff=True
        )
    except Exception as exc:  # pyHanko raises many types: the customer's reason
        raise Refused(
            "signature_invalid",
            f"Signature {sig.field_name!r} could not be validated: {type(exc).__name__}: {exc}",
        ) from exc
    finally:
        await vc.aclose()
    if not (status.intact and status.valid):
        raise Refused(
            "signature_invalid",
            f"Signature {sig.field_name!r} is not intact or not valid "
            f"(intact={status.intact}, valid={status.valid}): the signed bytes or the "
            "signature value do not match.",
        )
    if not status.trusted:
        issuer = sig.signer_cert.issuer.human_friendly
        problem = status.trust_problem_indic
        raise Refused(
            "untrusted_certificate",
            f"The signer certificate (issuer: {issuer}) does not chain to any of the tenant's "
            f"{len(trust_roots)} trust root(s)"
            + (f": {problem.standard_name}" if problem is not None else "")
            + ".",
        )


# -- visual comparison ---------------------------------------------------------------------


# -- entry point ---------------------------------------------------------------------------


async def check_returned_pdf(
    sent: bytes,
    returned: bytes,
    trust_roots: Sequence[asn1_x509.Certificate],
    *,
    customer_name: str,
    customer_email: str,
    allow_fetching: bool = True,
) -> ReturnedVerdict:
    """Decide whether ``returned`` is ``sent`` signed by the customer with their own certificate.

    ``trust_roots`` are the tenant's configured roots for customer certificates (for example
    the Belgian eID roots). ``allow_fetching`` lets pyHanko fetch missing intermediates and
    revocation data (soft-fail); turn it off for offline checks.
    """
    verdict = ReturnedVerdict(ok=False, reason_code="", reason={}, staff_detail="")
    try:
        sent_revisions = _read(sent, "sent").xrefs.total_revisions
        reader = _read(returned, "returned")
        sig = _customer_signature(reader)
        cert = sig.signer_cert
        verdict.signature_field = sig.field_name
        verdict.signer_cn = cert.subject.native.get("common_name")
        verdict.signer_emails = _cert_emails(cert)
        verdict.signer_email = verdict.signer_emails[0] if verdict.signer_emails else None
        verdict.cert_sha256 = cert.sha256.hex()
        _check_bytes(sent, sent_revisions, returned, sig)
        await _check_signature(sig, trust_roots, allow_fetching)
        await check_pages(sent, returned, widget_masks(reader, sig.field_name))
        if not _signer_matches(cert, customer_name, customer_email):
            verdict.needs_staff_confirmation = True
            raise Refused(
                "signer_mismatch",
                f"Signature and chain are valid, but the certificate names "
                f"{verdict.signer_cn!r} <{', '.join(verdict.signer_emails) or 'no email'}>, "
                f"not the invited {customer_name!r} <{customer_email}>: staff may confirm "
                "the signer.",
            )
    except Refused as refused:
        verdict.reason_code = refused.code
        verdict.reason = dict(REASONS[refused.code])
        verdict.staff_detail = refused.detail
        log.info("Returned PDF refused (%s): %s", refused.code, refused.detail)
        return verdict
    verdict.ok = True
    verdict.reason_code = "ok"
    verdict.reason = dict(REASONS["ok"])
    verdict.staff_detail = (
        f"Signature {sig.field_name!r} by {verdict.signer_cn!r} "
        f"(certificate SHA-256 {verdict.cert_sha256}) covers exactly the sent PDF plus the "
        "signature; chain trusted (revocation soft-fail); pages identical."
    )
    return verdict
