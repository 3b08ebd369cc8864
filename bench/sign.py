"""Contracts finalised per second (processor B-T + customer B-T + DSS + document timestamp,
local TSA of the dev PKI over HTTP) through dpabot's signing functions, next to raw pyHanko
doing the same steps with the same loaded keys in the same run, alternating the two.

ours: certify_processor, CustomerCA.issue_one_time + sign_customer, make_lta, called as the
service calls them. raw: PdfSigner / PdfTimeStamper with the signers already loaded, one aiohttp
session for the run, the same field names, bytes_reserved and one DSS revision.
ratio = ours / raw time per contract (goal <= 1.2). Last line: name=value pairs, headline first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from io import BytesIO
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asn1crypto import x509 as asn1_x509  # noqa: E402
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402
from pyhanko.sign import fields, signers  # noqa: E402
from pyhanko.sign.signers.pdf_signer import TimestampDSSContentSettings  # noqa: E402
from pyhanko.sign.timestamps import HTTPTimeStamper  # noqa: E402
from pyhanko.sign.validation import DocumentSecurityStore, collect_validation_info  # noqa: E402
from pyhanko_certvalidator import ValidationContext  # noqa: E402
from pyhanko_certvalidator.fetchers.aiohttp_fetchers import AIOHttpFetcherBackend  # noqa: E402

from signing import (  # noqa: E402
    FIELD_ARCHIVE_TIMESTAMP,
    FIELD_CUSTOMER,
    FIELD_PROCESSOR,
    DevPKI,
    certify_processor,
    make_lta,
    sign_customer,
    validate_pdf,
)
from signing.customer_ca import CustomerCA  # noqa: E402
from templates import documents  # noqa: E402

STEPS = ("certify", "customer", "lta")
_RESERVED = 16384  # what signing.pades reserves, so both sides sign exactly once


def _final_pdf() -> bytes:
    """The rendered final contract (PDF/A, two empty signature fields), as the service signs it."""
    manifest = documents.load_manifest("ibeauty")
    data = json.loads((manifest.directory / manifest.examples[0].data).read_text("utf-8"))
    return documents.render_pdf("ibeauty", data, draft=False)


class Raw:
    """The stage dpabot builds on: plain pyHanko calls, keys and HTTP session loaded once."""

    def __init__(
        self, http: aiohttp.ClientSession, tsa_url: str, roots: list[asn1_x509.Certificate]
    ):
        self.http, self.tsa_url, self.roots = http, tsa_url, roots

    def _meta(self, field: str, *, certify: bool) -> signers.PdfSignatureMetadata:
        return signers.PdfSignatureMetadata(
            field_name=field,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            certify=certify,
            docmdp_permissions=fields.MDPPerm.FILL_FORMS,
            reason="bench",
        )

    async def sign(self, pdf: bytes, signer: signers.Signer, field: str, *, certify: bool) -> bytes:
        pdf_signer = signers.PdfSigner(
            self._meta(field, certify=certify),
            signer=signer,
            timestamper=HTTPTimeStamper(self.tsa_url, session=self.http),
        )
        out = await pdf_signer.async_sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf)),
            existing_fields_only=True,
            bytes_reserved=_RESERVED,
        )
        return bytes(out.getbuffer())

    async def lta(self, pdf: bytes) -> bytes:
        vc = ValidationContext(
            trust_roots=self.roots,
            allow_fetching=True,
            revocation_mode="hard-fail",
            fetcher_backend=AIOHttpFetcherBackend(session=self.http),
        )
        try:
            reader = PdfFileReader(BytesIO(pdf))
            paths = []
            for sig in reader.embedded_regular_signatures:
                paths.extend(await collect_validation_info(sig, vc))
            writer = IncrementalPdfFileWriter.from_reader(reader)
            DocumentSecurityStore.supply_dss_in_writer(
                writer, None, paths=paths, validation_context=vc
            )
            stamper = signers.PdfTimeStamper(
                HTTPTimeStamper(self.tsa_url, session=self.http),
                field_name=FIELD_ARCHIVE_TIMESTAMP,
            )
            out = await stamper.async_timestamp_pdf(
                writer,
                "sha256",
                validation_context=vc,
                bytes_reserved=_RESERVED,
                dss_settings=TimestampDSSContentSettings(update_before_ts=True, include_vri=False),
            )
            return bytes(out.getbuffer())
        finally:
            await vc.aclose()


async def _timed(
    steps: list[tuple[str, Callable[[bytes], Awaitable[bytes]]]], pdf: bytes
) -> tuple[dict[str, float], bytes]:
    spent = {}
    for name, step in steps:
        t0 = time.perf_counter()
        pdf = await step(pdf)
        spent[name] = time.perf_counter() - t0
    return spent, pdf


def _ours_steps(
    pki: DevPKI, ca: CustomerCA, roots: list[asn1_x509.Certificate], i: int
) -> list[tuple[str, Callable[[bytes], Awaitable[bytes]]]]:
    processor, url = pki.processor_signer("bench"), pki.tsa_url

    async def certify(pdf: bytes) -> bytes:
        return await certify_processor(pdf, processor, url, reason=f"Verwerkersovereenkomst {i}")

    async def customer(pdf: bytes) -> bytes:
        # Part of dpabot's customer step: a fresh one-time certificate per signature.
        one_time = ca.issue_one_time("Karolien Piskor", "MOOI", f"k{i}@mooi.example")
        return await sign_customer(pdf, one_time, url, reason=f"Akkoord per e-mail {i}")

    async def lta(pdf: bytes) -> bytes:
        return await make_lta(pdf, roots, url)

    return [("certify", certify), ("customer", customer), ("lta", lta)]


def _raw_steps(
    raw: Raw, processor: signers.Signer, customer_signer: signers.Signer
) -> list[tuple[str, Callable[[bytes], Awaitable[bytes]]]]:
    async def certify(pdf: bytes) -> bytes:
        return await raw.sign(pdf, processor, FIELD_PROCESSOR, certify=True)

    async def customer(pdf: bytes) -> bytes:
        return await raw.sign(pdf, customer_signer, FIELD_CUSTOMER, certify=False)

    return [("certify", certify), ("customer", customer), ("lta", raw.lta)]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def run(n: int) -> None:
    pdf = _final_pdf()
    with tempfile.TemporaryDirectory(prefix="dpabot-bench-") as tmp:
        pki = DevPKI.load_or_create(Path(tmp) / "pki", ["bench"]).start()
        try:
            roots = [pki.root_cert]
            ca = pki.customer_ca("bench")
            async with aiohttp.ClientSession() as http:
                raw = Raw(http, pki.tsa_url, roots)
                processor = pki.processor_signer("bench")
                # Raw pyHanko gets a customer key loaded once (the "cached keys" baseline);
                # issuing one per contract is work only dpabot does, counted on its side.
                raw_customer = ca.issue_one_time("Karolien Piskor", "MOOI", "k@mooi.example")
                ours_s: dict[str, list[float]] = {s: [] for s in STEPS}
                raw_s: dict[str, list[float]] = {s: [] for s in STEPS}
                last: dict[str, bytes] = {}
                for i in range(-2, n):  # two warm-up rounds (imports, caches, connections)
                    sides = [
                        ("ours", ours_s, _ours_steps(pki, ca, roots, i)),
                        ("raw", raw_s, _raw_steps(raw, processor, raw_customer)),
                    ]
                    if i % 2:  # alternate who goes first, so drift hits both alike
                        sides.reverse()
                    for side, sink, steps in sides:
                        spent, last[side] = await _timed(steps, pdf)
                        if i >= 0:
                            for name, value in spent.items():
                                sink[name].append(value)
                ok = [(await validate_pdf(last[side], roots)).ok for side in ("ours", "raw")]
        finally:
            pki.stop()

    ours_total = [sum(v) for v in zip(*(ours_s[s] for s in STEPS), strict=True)]
    raw_total = [sum(v) for v in zip(*(raw_s[s] for s in STEPS), strict=True)]
    ours_mean, raw_mean = statistics.fmean(ours_total), statistics.fmean(raw_total)
    print(f"{'step':10s} {'dpabot ms':>10s} {'raw ms':>10s} {'ratio':>6s}")
    for s in STEPS:
        o, r = statistics.fmean(ours_s[s]), statistics.fmean(raw_s[s])
        print(f"{s:10s} {_ms(o):10.1f} {_ms(r):10.1f} {o / r:6.2f}")
    print(
        f"{'contract':10s} {_ms(ours_mean):10.1f} {_ms(raw_mean):10.1f} {ours_mean / raw_mean:6.2f}"
    )
    print(f"validated: dpabot ok={ok[0]} raw ok={ok[1]}")
    print(
        f"per_s={1 / ours_mean:.2f} raw_per_s={1 / raw_mean:.2f} "
        f"ratio={ours_mean / raw_mean:.2f} p95_ms={_ms(_p95(ours_total))} "
        + " ".join(f"{s}_ms={_ms(statistics.fmean(ours_s[s]))}" for s in STEPS)
        + " "
        + " ".join(f"raw_{s}_ms={_ms(statistics.fmean(raw_s[s]))}" for s in STEPS)
        + f" raw_p95_ms={_ms(_p95(raw_total))} n={n} ok={all(ok)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10, help="contracts per side")
    args = parser.parse_args()
    asyncio.run(run(args.n))


if __name__ == "__main__":
    main()
