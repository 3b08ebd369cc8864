"""How often, and how many at once, one client may upload: a token bucket and a count of
uploads in progress per client, in memory (pure).

A client is its IPv4 address, or the /64 network of its IPv6 address: one host holds a whole
/64 (SLAAC, privacy addresses), so keying by the full address would give it 2^64 buckets.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, OrderedDict
from dataclasses import dataclass

__all__ = ["InFlight", "RateLimiter", "client_key"]


def client_key(host: str) -> str:
    """The key the limits count a client address by: IPv4 as is, IPv6 by its /64."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host  # not an address (a test client's name, "?"): counted as itself
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


class InFlight:
    """Uploads in progress per client: at most ``per_client`` at once, so that a few clients
    trickling their uploads cannot hold every connection the page has."""

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self._count: Counter[str] = Counter()

    def enter(self, client: str) -> bool:
        if self._count[client] >= self.per_client:
            return False
        self._count[client] += 1
        return True

    def leave(self, client: str) -> None:
        self._count[client] -= 1
        if self._count[client] <= 0:
            del self._count[client]


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``burst`` uploads at once, then ``per_minute`` a minute, per client address.

    At most ``max_clients`` addresses are remembered; the longest unseen is forgotten first
    (a forgotten client starts with a full bucket: a flood from many addresses is bounded by the
    page's single worker anyway).
    """

    def __init__(self, per_minute: float, burst: int, max_clients: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, client: str, now: float) -> bool:
        """Take one token for ``client`` at time ``now`` (seconds, monotonic); False: wait."""
        bucket = self._buckets.pop(client, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        allowed = bucket.tokens >= 1.0
        if allowed:
            bucket.tokens -= 1.0
        self._buckets[client] = bucket
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return allowed
