"""Documents per second for each template through render_pdf (final PDF/A with signature fields),
on one core and on all cores (process pool), next to a plain Typst compile of the same file and
data in the same run; peak RSS; RSS growth over many renders (leak check).
Last line: name=value pairs, headline first (figures of the template with the lowest ratio)."""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from templates import documents  # noqa: E402


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _dataset(template: str, tag: str, n: int) -> list[dict]:
    """A different customer each time, as in production: Typst memoises identical inputs."""
    manifest = documents.load_manifest(template)
    base = json.loads((manifest.directory / manifest.examples[0].data).read_text("utf-8"))
    out = []
    for i in range(n):
        data = copy.deepcopy(base)
        data["fields"]["customer_name"] = f"Klant {tag}{i:06d}"
        out.append(data)
    return out


_raw: dict[str, object] = {}


def _plain(template: str, data: dict) -> int:
    """The stage render_pdf builds on: one Typst compile of the same file, nothing else."""
    import typst

    manifest = documents.load_manifest(template)
    compiler = _raw.get(template)
    if compiler is None:
        compiler = _raw[template] = typst.Compiler(
            str(manifest.directory / manifest.document),
            root=str(documents.DOCUMENTS_DIR),
            font_paths=[str(documents.FONTS_DIR)],
            ignore_system_fonts=True,
        )
    payload = json.dumps(documents.prepare_data(template, data, draft=False), ensure_ascii=False)
    pdf = compiler.compile(
        format="pdf",
        sys_inputs={"data": payload},  # type: ignore[attr-defined]
        pdf_standards=["a-2b"],
    )
    return len(pdf)


def _ours(template: str, data: dict) -> int:
    return len(documents.render_pdf(template, data, draft=False))


def _rate(fn, template: str, items: list[dict], pool: ProcessPoolExecutor | None) -> float:
    t0 = time.perf_counter()
    if pool is None:
        for d in items:
            fn(template, d)
    else:
        list(pool.map(fn, [template] * len(items), items, chunksize=4))
    return len(items) / (time.perf_counter() - t0)


def _interleaved(template: str, n: int) -> tuple[float, float]:
    """(ours/s, plain/s) on this core, alternating the two so machine noise hits both alike."""
    ours, plain = _dataset(template, "o", n), _dataset(template, "p", n)
    spent = [0.0, 0.0]
    for i in range(n):
        t0 = time.perf_counter()
        _ours(template, ours[i])
        t1 = time.perf_counter()
        _plain(template, plain[i])
        spent[0] += t1 - t0
        spent[1] += time.perf_counter() - t1
    return n / spent[0], n / spent[1]


def _warm(template: str) -> None:
    for d in _dataset(template, "w", 2):
        _plain(template, d)
        _ours(template, d)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40, help="renders per template and stage")
    parser.add_argument("--leak", type=int, default=1000, help="renders for the leak check")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    templates = documents.list_templates()
    rows = []
    with ProcessPoolExecutor(cores, initializer=_warm_all, initargs=(templates,)) as pool:
        list(pool.map(_noop, range(cores)))  # start every worker before timing
        for t in templates:
            _warm(t)
            one_ours, one_plain = _interleaved(t, args.n)
            all_plain = _rate(_plain, t, _dataset(t, "P", args.n * cores), pool)
            all_ours = _rate(_ours, t, _dataset(t, "O", args.n * cores), pool)
            rows.append((t, one_ours, one_plain, all_ours, all_plain))
            print(
                f"{t:18s} 1 core: {one_ours:6.1f}/s (plain Typst {one_plain:6.1f}/s, "
                f"ratio {one_ours / one_plain:.2f})   {cores} cores: {all_ours:6.1f}/s "
                f"(plain {all_plain:6.1f}/s, ratio {all_ours / all_plain:.2f})"
            )
    # Leak check: RSS after a warm-up against RSS after many more renders of new data.
    t = templates[0]
    items = _dataset(t, "L", args.leak)
    for d in items[:100]:
        _ours(t, d)
    start = _rss_mb()
    for d in items[100:]:
        _ours(t, d)
    growth = _rss_mb() - start
    print(f"leak check: {args.leak} renders of {t!r}, RSS {start:.0f} → {_rss_mb():.0f} MB")
    worst = min(rows, key=lambda r: r[1] / r[2])
    print(
        f"per_s={worst[1]:.1f} ratio={worst[1] / worst[2]:.2f} "
        f"all_cores_per_s={worst[3]:.1f} all_cores_ratio={worst[3] / worst[4]:.2f} "
        f"worst={worst[0]} peak_rss_mb={_peak_mb():.0f} leak_mb={growth:.1f} "
        f"cores={cores} n={args.n}"
    )


def _noop(_: int) -> None:
    return None


def _warm_all(templates: list[str]) -> None:
    for t in templates:
        _warm(t)


if __name__ == "__main__":
    main()
