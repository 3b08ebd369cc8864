"""Time render_pdf (final PDF/A with signature fields) against a plain Typst compile."""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import typst  # noqa: E402

from templates import documents  # noqa: E402


def _p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50, help="renders per stage (default 50)")
    parser.add_argument("--template", default="ibeauty")
    args = parser.parse_args()

    manifest = documents.load_manifest(args.template)
    base = json.loads((manifest.directory / "example-000.json").read_text(encoding="utf-8"))

    # A different customer each time, as in production (Typst memoises identical inputs).
    # Each stage gets its own names: Typst's memo cache is process-wide, so no stage may reuse
    # a document another stage already compiled.
    def dataset(tag: str) -> list[dict]:
        out = []
        for i in range(args.n):
            data = copy.deepcopy(base)
            data["fields"]["customer_name"] = f"{base['fields']['customer_name']} {tag}{i:05d}"
            out.append(data)
        return out

    raw_data, final_data, draft_data = dataset("r"), dataset("f"), dataset("d")

    raw = typst.Compiler(
        str(manifest.directory / manifest.document),
        root=str(manifest.directory),
        font_paths=[str(documents.FONTS_DIR)],
        ignore_system_fonts=True,
    )
    payloads = [
        json.dumps(documents.prepare_data(args.template, d, draft=False), ensure_ascii=False)
        for d in raw_data
    ]
    # warm-up: first compile loads fonts, first render also builds the cached compiler
    raw.compile(format="pdf", sys_inputs={"data": payloads[0]}, pdf_standards=["a-2b"])
    documents.render_pdf(args.template, base, draft=False)
    documents.render_pdf(args.template, base, draft=True)

    raw_ms, render_ms, draft_ms = [], [], []
    for i in range(args.n):  # interleaved so machine noise hits both stages alike
        t0 = time.perf_counter()
        raw.compile(format="pdf", sys_inputs={"data": payloads[i]}, pdf_standards=["a-2b"])
        t1 = time.perf_counter()
        documents.render_pdf(args.template, final_data[i], draft=False)
        t2 = time.perf_counter()
        documents.render_pdf(args.template, draft_data[i], draft=True)
        t3 = time.perf_counter()
        raw_ms.append((t1 - t0) * 1000)
        render_ms.append((t2 - t1) * 1000)
        draft_ms.append((t3 - t2) * 1000)

    render, rawm = statistics.median(render_ms), statistics.median(raw_ms)
    print(
        f"{args.n} renders of template {args.template!r} (median ms): final {render:.1f}, "
        f"raw typst {rawm:.1f}, draft {statistics.median(draft_ms):.1f}"
    )
    print(
        f"render_ms={render:.1f} raw_ms={rawm:.1f} ratio={render / rawm:.2f} "
        f"p95_ms={_p95(render_ms):.1f} draft_ms={statistics.median(draft_ms):.1f} n={args.n}"
    )


if __name__ == "__main__":
    main()
