"""RFC 3161 timestamps from a list of timestamp authorities, tried in order.

Never a local clock: when every TSA fails the caller gets a TimestampError naming them all.
"""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp
from asn1crypto import cms
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper, TimestampRequestError
from pyhanko.sign.timestamps.common_utils import extract_ts_certs

from .errors import TimestampError

__all__ = ["DEFAULT_TSA_TIMEOUT_S", "FallbackTimeStamper", "tsa_list"]

DEFAULT_TSA_TIMEOUT_S = 10


def tsa_list(tsa_urls: str | Sequence[str]) -> list[str]:
    """One URL or several, as a non-empty list (a lone string is not split into letters)."""
    urls = [tsa_urls] if isinstance(tsa_urls, str) else list(tsa_urls)
    if not urls:
        raise TimestampError("No timestamp authority is configured; nothing can be signed.")
    return urls


class FallbackTimeStamper(TimeStamper):
    """Asks each TSA in order and returns the first valid token.

    A TSA that cannot be reached, times out, or answers with an error or an invalid
    response is skipped; when all fail, ``TimestampError`` lists each URL and why.
    """

    def __init__(
        self,
        tsa_urls: str | Sequence[str],
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: float = DEFAULT_TSA_TIMEOUT_S,
    ) -> None:
        super().__init__()
        self.urls = tsa_list(tsa_urls)
        self._stampers = [HTTPTimeStamper(u, timeout=timeout, session=session) for u in self.urls]
        self.used_url: str | None = None  # the TSA that gave the last token

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        failures: list[str] = []
        for url, stamper in zip(self.urls, self._stampers, strict=True):
            try:
                token = await stamper.async_timestamp(message_digest, md_algorithm)
            except TimestampRequestError as exc:
                failures.append(f"{url} answered badly ({exc})")
            except TimeoutError:
                failures.append(f"{url} did not answer in time")
            except (aiohttp.ClientError, OSError) as exc:
                failures.append(f"{url} could not be reached ({type(exc).__name__})")
            else:
                # Whichever TSA answered, its certificates go into the validation data.
                for cert in extract_ts_certs(token, self.cert_registry):
                    self._certs[cert.issuer_serial] = cert
                self.used_url = url
                return token
        raise TimestampError(
            "No timestamp authority gave a timestamp: "
            + "; ".join(failures)
            + ". The document was not signed and must be retried later."
        )
