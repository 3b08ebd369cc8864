"""Whole-chain time per contract (invite → reply → final → AKKOORD → B-LTA → archive) on the
embedded defaults, next to the raw stages it is built on (Typst render + two-party B-LTA signing)
measured in the same run. Last line: name=value pairs, headline first."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app.demo import DEMO_TENANT, run_chain  # noqa: E402
from bot.app.runtime import open_runtime  # noqa: E402
from bot.core.settings import ServiceSettings  # noqa: E402
from storage.embedded import stop_embedded  # noqa: E402


async def raw_stages(rt, n: int) -> float:
    """Mean ms of: final render + processor certify + customer sign + LTA (no DB, no mail)."""
    from signing import certify_processor, make_lta, sign_customer
    from templates import documents

    signing = rt.signing[DEMO_TENANT.slug]
    data = json.loads(
        (documents.load_manifest("ibeauty").directory / "example-000.json").read_text(
            encoding="utf-8"
        )
    )
    times = []
    for i in range(n):
        data["fields"]["customer_name"] = f"Raw stage klant {i}"
        t0 = time.perf_counter()
        pdf = documents.render_pdf("ibeauty", data, draft=False)
        pdf = await certify_processor(pdf, signing.processor_signer, signing.tsa_url, reason="r")
        one_time = signing.customer_ca.issue_one_time("Karolien Piskor", "MOOI", "k@m.example")
        pdf = await sign_customer(pdf, one_time, signing.tsa_url, reason="r")
        await make_lta(pdf, signing.trust_roots, signing.tsa_url)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.mean(times)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=5, help="contracts through the chain")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dpabot-bench-") as work:
        os.chmod(work, 0o755)
        t0 = time.perf_counter()
        settings = ServiceSettings(
            data_dir=Path(work), database_url=os.environ.get("DPABOT_DATABASE_URL")
        )
        try:
            async with open_runtime(settings, [DEMO_TENANT]) as rt:
                startup_s = time.perf_counter() - t0
                chains = []
                for _ in range(args.n):
                    c0 = time.perf_counter()
                    result = await run_chain(rt, c0)
                    assert result["state"] == "completed", result
                    chains.append((time.perf_counter() - c0) * 1000)
                raw_ms = await raw_stages(rt, args.n)
        finally:
            # The embedded server outlives its starter: stop it before its folder goes.
            stop_embedded(Path(work))
    chain_ms = statistics.mean(chains)
    print(f"chain_ms per contract: {[round(c) for c in chains]}")
    print(
        f"chain_ms={chain_ms:.0f} raw_ms={raw_ms:.0f} ratio={raw_ms / chain_ms:.2f} "
        f"startup_s={startup_s:.2f} n={args.n}"
    )


if __name__ == "__main__":
    asyncio.run(main())
