"""Short fingerprints people can read: of a final PDF (its version) and of a reply's Message-ID."""

from __future__ import annotations

import hashlib
import re

# 12 hex digits (48 bits): unguessable for someone who has not seen the PDF (the mailed final's
# bytes are not predictable from its text: templates.render_pdf(unique=True)), short
# enough to read over the phone.
_FINGERPRINT_DIGITS = 12


_QUOTED = re.compile(r"(?<![0-9a-f])([0-9a-f]{4})[-\s]?([0-9a-f]{4})[-\s]?([0-9a-f]{4})", re.I)


_SHA256 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", re.I)


def fingerprint(sha256: str) -> str:
    """The short fingerprint shown to people: ``A1B2-C3D4-E5F6``."""
    digits = sha256[:_FINGERPRINT_DIGITS].upper()
    return "-".join(digits[i : i + 4] for i in range(0, _FINGERPRINT_DIGITS, 4))


def quotes_version(text: str, sha256: str) -> bool:
    """The text quotes this version's fingerprint (or its whole SHA-256)."""
    wanted = sha256[:_FINGERPRINT_DIGITS].lower()
    if any("".join(m.groups()).lower() == wanted for m in _QUOTED.finditer(text)):
        return True
    return any(m.group(0).lower() == sha256.lower() for m in _SHA256.finditer(text))


def message_ref(message_id: str) -> str:
    """The 10 hex digits a signature shows for the reply that accepted: the start of the
    SHA-256 of its Message-ID (without angle brackets), checkable with ``sha256sum``."""
    return hashlib.sha256(message_id.strip().strip("<>").encode()).hexdigest()[:10]
