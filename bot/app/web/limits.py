"""How often one client may upload: a token bucket per client IP, in memory (pure)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["RateLimiter"]


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
