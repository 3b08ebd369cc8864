"""Malformed mails through the reply reader: no crash but dpabot's own error, bounded CPU time.

    .venv/bin/python bench/fuzz_reader.py --n 10000 [--seed 1]

Mails are made from the corpus replies by seeded mutations (bytes flipped, cut, duplicated,
headers broken, charsets lied about) and from hostile shapes (HTML nested 10,000 deep,
multipart nested 1,000 deep, a 5 MB line, thousands of parts, NUL bytes, endless headers).
Each goes through ``read_reply`` in this process; the CPU time of each is measured. Last line:
``crashes=… over_2s=… p50_ms=… p99_ms=… max_ms=… corpus_p50_ms=… corpus_p99_ms=…
corpus_n=… peak_rss_mb=… n=…`` (p50/p99 of the fuzzed mails, then of the real corpus replies).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.errors import DpabotError  # noqa: E402
from handlers.reader import read_reply  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
TEMPLATES = ("ibeauty", "also", "clauses", "it4professionals")
HEAD = (
    b"From: Jan <jan@klant.example>\r\nTo: dpa+abcdefghijklmnopqrstuvwxyz@ibeauty.example\r\n"
    b"Subject: Re: Verwerkersovereenkomst\r\nMessage-ID: <fuzz@klant.example>\r\n"
)


def _seeds() -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.rglob("*.eml"))]


def deep_html(rng: random.Random) -> bytes:
    depth = rng.choice([1000, 5000, 10000])
    tag = rng.choice(["div", "blockquote", "span", "table", "p"])
    body = f"<{tag}>" * depth + "1. Klantenbeheer" + f"</{tag}>" * rng.choice([0, depth])
    return HEAD + b"Content-Type: text/html; charset=utf-8\r\n\r\n" + body.encode()


def deep_multipart(rng: random.Random) -> bytes:
    depth = rng.choice([100, 500, 1000])
    parts = [HEAD + b'Content-Type: multipart/mixed; boundary="b0"\r\n\r\n']
    for i in range(1, depth):
        parts.append(
            f'--b{i - 1}\r\nContent-Type: multipart/mixed; boundary="b{i}"\r\n\r\n'.encode()
        )
    parts.append(f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\n1. x\r\n".encode())
    return b"".join(parts)


def long_line(rng: random.Random) -> bytes:
    size = rng.choice([1_000_000, 5_000_000])
    unit = rng.choice([b"a", b"1. ", b"> ", b"akkoord ", b"<b>", b"=?utf-8?q?x?= ", b"\xe9"])
    body = (unit * (size // len(unit)))[:size]
    return HEAD + b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body


def many_parts(rng: random.Random) -> bytes:
    n = rng.choice([1000, 5000])
    out = [HEAD + b'Content-Type: multipart/mixed; boundary="x"\r\n\r\n']
    for i in range(n):
        kind = rng.choice([b"text/plain", b"text/html", b"application/pdf"])
        out.append(b"--x\r\nContent-Type: " + kind + b"\r\n\r\n" + str(i).encode() + b"\r\n")
    out.append(b"--x--\r\n")
    return b"".join(out)


def long_headers(rng: random.Random) -> bytes:
    n = rng.choice([10_000, 50_000])
    head = HEAD + b"References: " + b" ".join(b"<r%d@x>" % i for i in range(n)) + b"\r\n"
    folded = b"Subject: " + b"\r\n x" * rng.choice([1000, 20000]) + b"\r\n"
    return head + folded + b"\r\n1. Klantenbeheer\r\n"


def garbage(rng: random.Random) -> bytes:
    return rng.randbytes(rng.choice([10, 1000, 100_000]))


def mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 12)):
        op = rng.randrange(7)
        if not data:
            break
        at = rng.randrange(len(data))
        if op == 0:  # flip bytes
            for i in range(at, min(len(data), at + rng.randint(1, 40))):
                data[i] = rng.randrange(256)
        elif op == 1:  # cut
            del data[at : at + rng.randint(1, 5000)]
        elif op == 2:  # duplicate a stretch many times
            chunk = data[at : at + rng.randint(1, 200)]
            data[at:at] = chunk * rng.randint(2, 300)
        elif op == 3:  # lie about the charset or encoding
            data[at:at] = rng.choice(
                [
                    b"\r\nContent-Transfer-Encoding: base64\r\n",
                    b'\r\nContent-Type: text/plain; charset="x-unknown"\r\n',
                    b"\r\nContent-Type: text/html; charset=utf-16\r\n",
                    b"\r\nContent-Transfer-Encoding: quoted-printable\r\n",
                ]
            )
        elif op == 4:  # NUL bytes and control characters
            data[at:at] = bytes(rng.choice([0, 1, 8, 11, 12, 27, 127]) for _ in range(50))
        elif op == 5:  # break a boundary
            i = data.find(b"boundary=")
            if i >= 0:
                data[i : i + 12] = b"boundary=\x00\xff"
        else:  # truncate the mail
            del data[at:]
    return bytes(data)


SHAPES: list[Callable[[random.Random], bytes]] = [
    deep_html,
    deep_multipart,
    long_line,
    many_parts,
    long_headers,
    garbage,
]


def mails(n: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """``n`` malformed mails (kind, bytes), the same ones for the same seed."""
    rng = random.Random(seed)
    seeds = _seeds()
    for i in range(n):
        if i % 10 == 0:  # one in ten a hostile shape, the rest mutated real replies
            shape = SHAPES[(i // 10) % len(SHAPES)]
            yield shape.__name__, shape(rng)
        else:
            yield "mutated", mutate(rng, rng.choice(seeds))


def corpus_times() -> list[float]:
    """CPU seconds of each corpus reply (main, classes, held-out), read as the service reads it."""
    import json

    times = []
    for eml in sorted(CORPUS.rglob("*.eml")):
        case = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
        started = time.process_time()
        read_reply(eml.read_bytes(), case["template"], case.get("known") or {})
        times.append(time.process_time() - started)
    return sorted(times)


def _pct(times: list[float], q: float) -> float:
    return round(times[max(0, int(len(times) * q) - 1)] * 1000, 1)


def run(n: int, seed: int) -> dict[str, float]:
    crashes: list[str] = []
    times: list[float] = []
    slow: list[str] = []
    for i, (kind, raw) in enumerate(mails(n, seed)):
        started = time.process_time()
        try:
            read_reply(raw, TEMPLATES[i % len(TEMPLATES)], {})
        except DpabotError:
            pass  # refused in plain words: an outcome
        except BaseException as exc:
            crashes.append(f"#{i} {kind}: {type(exc).__name__}: {str(exc)[:120]}")
        spent = time.process_time() - started
        times.append(spent)
        if spent > 2.0:
            slow.append(f"#{i} {kind}: {spent:.2f} s")
    for line in crashes[:20] + slow[:20]:
        print(line)
    times.sort()
    corpus = corpus_times()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "crashes": len(crashes),
        "over_2s": len(slow),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p99_ms": _pct(times, 0.99),
        "max_ms": round(times[-1] * 1000, 1),
        "corpus_p50_ms": round(statistics.median(corpus) * 1000, 1),
        "corpus_p99_ms": _pct(corpus, 0.99),
        "corpus_n": len(corpus),
        "peak_rss_mb": round(peak_mb, 1),
        "n": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = run(args.n, args.seed)
    print(" ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
