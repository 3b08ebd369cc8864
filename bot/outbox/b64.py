"""Base64 lines of PDFs that share their start, each shared start encoded once.

A bulk send's drafts are one shared render with each customer's values appended as an
incremental update (templates/_stamps.py): 95 % of each PDF's bytes are the same. Encoding
them again for every mail was most of what attaching a draft cost. This keeps the base64 of
the start that the last two PDFs shared and encodes only the rest; a cut at a multiple of 57
bytes (one 76-character line) makes the lines exactly those of base64.encodebytes(data).
"""

from __future__ import annotations

import base64

LINE = 57  # bytes per base64 line of 76 characters
MIN_SHARED = 4096  # a shorter shared start is not worth keeping


class Lines:
    """encodebytes() with memory of the last shared start (one per process is enough)."""

    def __init__(self) -> None:
        self.last = b""
        self.start = b""
        self.lines = b""

    def __call__(self, data: bytes) -> bytes:
        if self.start and data.startswith(self.start):
            return self.lines + base64.encodebytes(data[len(self.start) :])
        cut = shared_length(self.last, data) // LINE * LINE
        self.last = data
        if cut < MIN_SHARED:
            return base64.encodebytes(data)
        self.start, self.lines = data[:cut], base64.encodebytes(data[:cut])
        return self.lines + base64.encodebytes(data[cut:])


def shared_length(a: bytes, b: bytes) -> int:
    """The length of the longest common start of a and b (a binary search of memcmps)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


encode = Lines()
