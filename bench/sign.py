"""Benchmark: N two-party flows to PAdES B-LTA against the DEV PKI, vs. a raw pyHanko signature."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from io import BytesIO
from pathlib import Path

import typst
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from signing import (
    FIELD_PROCESSOR,
    DevPKI,
    add_signature_fields,
    certify_processor,
    make_lta,
    sign_customer,
    validate_pdf,
)

_DOC = """
#set document(title: "Verwerkersovereenkomst", author: "dpabot bench")
#set page(paper: "a4")
= Verwerkersovereenkomst
#lorem(600)
"""


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


async def _raw_sign(pdf: bytes, signer: signers.Signer) -> bytes:
    # The stage dpabot builds on: one plain pyHanko signature, cached key, no TSA.
    meta = signers.PdfSignatureMetadata(field_name=FIELD_PROCESSOR, md_algorithm="sha256")
    out = await signers.async_sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf)),
        meta,
        signer=signer,
        existing_fields_only=True,
        bytes_reserved=16384,
    )
    return bytes(out.getbuffer())


async def run(n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="dpabot-bench-") as tmp:
        src = Path(tmp) / "dpa.typ"
        src.write_text(_DOC)
        pdf = add_signature_fields(typst.compile(str(src), format="pdf", pdf_standards=["a-2b"]))

        t0 = time.perf_counter()
        pki = DevPKI.load_or_create(Path(tmp) / "pki", ["bench"]).start()
        startup = time.perf_counter() - t0
        try:
            tenant_signer = pki.processor_signer("bench")
            customer_ca = pki.customer_ca("bench")
            roots = [pki.root_cert]
            await _raw_sign(pdf, tenant_signer)  # warm-up (imports, caches)
            await make_lta(
                await certify_processor(pdf, tenant_signer, pki.tsa_url, reason="warm-up"),
                roots,
                pki.tsa_url,
            )

            raw: list[float] = []
            flows: list[float] = []
            stages: dict[str, list[float]] = {"certify": [], "customer": [], "lta": []}
            last = b""
            for i in range(n):
                t = time.perf_counter()
                await _raw_sign(pdf, tenant_signer)
                raw.append(time.perf_counter() - t)

                t = time.perf_counter()
                a = await certify_processor(pdf, tenant_signer, pki.tsa_url, reason=f"bench {i}")
                t1 = time.perf_counter()
                signer = customer_ca.issue_one_time(
                    "Bench Klant", "Bench BV", "klant@bench.example"
                )
                b = await sign_customer(a, signer, pki.tsa_url, reason=f"Akkoord bench {i}")
                t2 = time.perf_counter()
                last = await make_lta(b, roots, pki.tsa_url)
                t3 = time.perf_counter()
                flows.append(t3 - t)
                stages["certify"].append(t1 - t)
                stages["customer"].append(t2 - t1)
                stages["lta"].append(t3 - t2)

            t = time.perf_counter()
            report = await validate_pdf(last, roots)
            validate_s = time.perf_counter() - t
        finally:
            pki.stop()

    for name, values in stages.items():
        print(f"{name:9s} median {_ms(statistics.median(values)):7.1f} ms")
    print(f"validate  {_ms(validate_s):7.1f} ms (ok={report.ok})")
    lta_ms = _ms(statistics.median(flows))
    raw_ms = _ms(statistics.median(raw))
    print(
        f"lta_ms={lta_ms} raw_sign_ms={raw_ms} ratio={lta_ms / raw_ms:.1f} "
        f"p95_ms={_ms(_p95(flows))} certify_ms={_ms(statistics.median(stages['certify']))} "
        f"customer_ms={_ms(statistics.median(stages['customer']))} "
        f"make_lta_ms={_ms(statistics.median(stages['lta']))} "
        f"validate_ms={_ms(validate_s)} pki_start_ms={_ms(startup)} n={n} ok={report.ok}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10, help="number of full two-party flows")
    args = parser.parse_args()
    asyncio.run(run(args.n))


if __name__ == "__main__":
    main()
