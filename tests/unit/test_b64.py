"""Base64 lines with a remembered shared start: always the bytes base64.encodebytes gives."""

from __future__ import annotations

import base64
import os
import random

from bot.outbox.b64 import Lines, shared_length


def test_drafts_sharing_a_start_encode_as_encodebytes_does() -> None:
    rng = random.Random(5)
    shared = os.urandom(80_000)
    other = os.urandom(60_000)
    lines = Lines()
    for i in range(300):
        kind = rng.choice(["stamped", "stamped", "other", "short", "cut", "empty", "same"])
        if kind == "stamped":  # the shared render plus a customer's increment
            data = shared + os.urandom(rng.randrange(0, 3000))
        elif kind == "other":  # another tenant's drafts interleaved
            data = other + os.urandom(rng.randrange(0, 3000))
        elif kind == "short":  # shorter than the remembered start
            data = shared[: rng.randrange(0, 9000)]
        elif kind == "cut":  # the same start, then a change inside it
            at = rng.randrange(0, len(shared))
            data = shared[:at] + bytes([shared[at] ^ 1]) + shared[at + 1 :]
        elif kind == "same":
            data = shared
        else:
            data = b""
        assert lines(data) == base64.encodebytes(data), (i, kind)


def test_shared_length() -> None:
    assert shared_length(b"", b"abc") == 0
    assert shared_length(b"abcdef", b"abcxef") == 3
    assert shared_length(b"abc", b"abcdef") == 3
    assert shared_length(b"same", b"same") == 4
