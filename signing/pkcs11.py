"""Tenant keys on a PKCS#11 token (HSM, smart card, SoftHSM): pyHanko ``PKCS11Signer``s.

One signer per (module, token, key) per process: the session stays open (logging in to a
token costs more than a signature) and the key handle and certificates are pulled once.
The PIN is only handed to the PKCS#11 module; it is never logged nor kept in an error.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from pyhanko.sign import signers
from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

from .errors import SigningError

__all__ = ["TokenSigner", "clear_pkcs11_cache", "load_pkcs11_signer"]


class TokenSigner(PKCS11Signer):
    """A ``PKCS11Signer`` whose token operations never overlap.

    pyHanko runs the token call in an executor thread, and the bot signs from several
    threads (each with its own event loop) over one shared session: a per-session lock
    keeps PKCS#11 operations (C_SignInit … C_Sign) from interleaving.
    """

    def __init__(self, *args: Any, session_lock: threading.Lock, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._session_lock = session_lock

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return await super().async_sign_raw(data, digest_algorithm, dry_run=True)
        await asyncio.to_thread(self._session_lock.acquire)
        try:
            return await super().async_sign_raw(data, digest_algorithm)
        finally:
            self._session_lock.release()


_cache: dict[tuple[str, str, str], TokenSigner] = {}
_sessions: dict[tuple[str, str], tuple[Any, threading.Lock]] = {}
_lock = threading.Lock()


def _open_session(lib_path: str, token_label: str, pin: str) -> tuple[Any, threading.Lock]:
    from pyhanko.config.pkcs11 import TokenCriteria

    key = (lib_path, token_label)
    found = _sessions.get(key)
    if found is not None:
        return found
    try:
        session = open_pkcs11_session(
            lib_path, token_criteria=TokenCriteria(label=token_label), user_pin=pin
        )
    except Exception as exc:  # PKCS11Error, OSError (module), pkcs11.PinIncorrect, …
        detail = type(exc).__name__
        if str(exc) and pin not in str(exc):  # belt and braces: never echo the PIN
            detail += f": {exc}"
        raise SigningError(
            f"The PKCS#11 token {token_label!r} could not be opened with the module "
            f"{lib_path} ({detail}); check the module path, token label and PIN."
        ) from None
    found = (session, threading.Lock())
    _sessions[key] = found
    return found


def _is_ec_key(session: Any, key_label: str) -> bool:
    from pkcs11 import Attribute, KeyType, ObjectClass

    keys = list(
        session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: key_label})
    )
    if len(keys) != 1:
        raise SigningError(
            f"The PKCS#11 token has {len(keys)} private keys labelled {key_label!r}; "
            "exactly one is needed."
        )
    return bool(keys[0][Attribute.KEY_TYPE] == KeyType.EC)


def load_pkcs11_signer(
    lib_path: str | Path,
    token_label: str,
    key_label: str,
    pin: str,
    *,
    cert_label: str | None = None,
) -> signers.Signer:
    """The signer for the private key ``key_label`` on the token ``token_label``.

    The signing certificate is the certificate labelled ``cert_label`` (default: the key's
    label); every other certificate on the token goes into the chain embedded in
    signatures (issuing CA, root). RSA keys sign with CKM_SHA256_RSA_PKCS; EC keys with raw
    CKM_ECDSA over a digest computed here, which every token (SoftHSM included) offers.
    Cached per (module, token, key): later calls return the same signer, PIN not re-checked.
    """
    # As given: pyHanko caches the loaded module by this string, so no resolving here.
    lib = str(lib_path)
    cache_key = (lib, token_label, key_label)
    with _lock:
        cached = _cache.get(cache_key)
        if cached is not None:
            return cached
        session, session_lock = _open_session(lib, token_label, pin)
        try:
            with session_lock:
                ec = _is_ec_key(session, key_label)
                signer = TokenSigner(
                    session,
                    cert_label=cert_label or key_label,
                    key_label=key_label,
                    other_certs_to_pull=None,  # all certificates on the token: the chain
                    use_raw_mechanism=ec,
                    session_lock=session_lock,
                )
                # Pull key handle and certificates now, once, outside any event loop.
                signer.signing_cert  # noqa: B018
                signer.cert_registry  # noqa: B018
        except SigningError:
            raise
        except Exception as exc:  # python-pkcs11 errors become ours, a sentence each
            raise SigningError(
                f"The key {key_label!r} or its certificate could not be loaded from the "
                f"PKCS#11 token {token_label!r} ({type(exc).__name__}: {exc})."
            ) from None
        _cache[cache_key] = signer
        return signer


def clear_pkcs11_cache() -> None:
    """Forget cached signers and close their sessions (tests, or a token swapped at runtime)."""
    with _lock:
        _cache.clear()
        for session, session_lock in _sessions.values():
            with session_lock:
                try:
                    session.close()
                except Exception:  # closing a dead session at exit: nothing to do
                    pass
        _sessions.clear()
