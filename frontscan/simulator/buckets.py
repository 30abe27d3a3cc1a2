"""The simulator's own rate limiters, one per upstream style.

Front limits with fixed windows: a per-minute company budget that refills all at once at
`x-ratelimit-reset` (an epoch second), and a short per-resource burst window. OpenAI
refills continuously (GCRA-like) at limit/60 per second; its `reset` headers mean "time
until the bucket is full again", not "wait this long". Simulating the wrong style would
let a client tuned against the simulator misbehave against the real service, so both
exist here, each with the clock the real header semantics need: `time.monotonic()` for
elapsed time and `time.time()` only to print Front's epoch reset.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WindowDecision:
    """The outcome of one fixed-window admission, with everything the headers need."""

    allowed: bool
    limit: int
    remaining: int
    reset_after: float

    @property
    def reset_epoch(self) -> int:
        """Front's `x-ratelimit-reset`: the epoch second at which the window refills."""
        return math.ceil(time.time() + self.reset_after)

    @property
    def retry_after_seconds(self) -> int:
        """Front's integer `Retry-After`: the wait rounded up, never below one second."""
        return max(1, math.ceil(self.reset_after))


class FixedWindowBucket:
    """`limit` requests per `window` seconds; the window starts at its first request."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a window bucket needs limit >= 1 and a positive window")
        self.limit = limit
        self.window = window
        self._started = -math.inf
        self._used = 0

    def _roll(self, now: float) -> None:
        if now - self._started >= self.window:
            self._started = now
            self._used = 0

    def peek(self, now: float | None = None) -> WindowDecision:
        """The current state without spending anything (for headers on other errors)."""
        now = time.monotonic() if now is None else now
        self._roll(now)
        return WindowDecision(True, self.limit, self.limit - self._used, self._reset(now))

    def take(self, now: float | None = None) -> WindowDecision:
        """Spend one request if the window has room; a refused request spends nothing."""
        now = time.monotonic() if now is None else now
        self._roll(now)
        if self._used >= self.limit:
            return WindowDecision(False, self.limit, 0, self._reset(now))
        self._used += 1
        return WindowDecision(True, self.limit, self.limit - self._used, self._reset(now))

    def refund(self) -> None:
        """Give back a request that another bucket refused, so only admitted work counts."""
        self._used = max(0, self._used - 1)

    def _reset(self, now: float) -> float:
        return max(0.0, self._started + self.window - now)


class KeyedWindows:
    """One small fixed window per resource (Front's tier-2 "5 per second per resource")."""

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._buckets: dict[str, FixedWindowBucket] = {}

    def take(self, key: str, now: float | None = None) -> WindowDecision:
        now = time.monotonic() if now is None else now
        if len(self._buckets) > 10_000:
            self._prune(now)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = FixedWindowBucket(self.limit, self.window)
        return bucket.take(now)

    def refund(self, key: str) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.refund()

    def _prune(self, now: float) -> None:
        stale = [k for k, b in self._buckets.items() if b.peek(now).remaining == b.limit]
        for key in stale:
            del self._buckets[key]


@dataclass(frozen=True, slots=True)
class RefillDecision:
    """The outcome of a continuous-refill admission."""

    allowed: bool
    limit: int
    remaining: int
    wait: float
    reset_after: float


class RefillBucket:
    """A bucket of `limit` units refilling continuously at limit/`period` per second.

    It starts full, like OpenAI's. `take` is all-or-nothing; `force` spends regardless
    (floored at zero) because OpenAI counts refused requests against RPM.
    """

    def __init__(self, limit: int, period: float = 60.0) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a refill bucket needs limit >= 1 and a positive period")
        self.limit = limit
        self.period = period
        self._level = float(limit)
        self._stamp = time.monotonic()

    @property
    def rate(self) -> float:
        return self.limit / self.period

    def _refill(self, now: float) -> None:
        self._level = min(float(self.limit), self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    def available(self, now: float | None = None) -> float:
        self._refill(time.monotonic() if now is None else now)
        return self._level

    def take(self, amount: float, now: float | None = None) -> RefillDecision:
        """Spend `amount` if available; otherwise say how long until it would be."""
        self._refill(time.monotonic() if now is None else now)
        if amount <= self._level + 1e-9:  # refill arithmetic in floats: forgive rounding
            self._level = max(0.0, self._level - amount)
            return self._decision(True, 0.0)
        return self._decision(False, (amount - self._level) / self.rate)

    def force(self, amount: float, now: float | None = None) -> None:
        self._refill(time.monotonic() if now is None else now)
        self._level = max(0.0, self._level - amount)

    def state(self, now: float | None = None) -> RefillDecision:
        self._refill(time.monotonic() if now is None else now)
        return self._decision(True, 0.0)

    def _decision(self, allowed: bool, wait: float) -> RefillDecision:
        remaining = max(0, math.floor(self._level))
        reset = (self.limit - remaining) / self.limit * self.period
        return RefillDecision(allowed, self.limit, remaining, wait, reset)


def go_duration(seconds: float) -> str:
    """Format like Go's `time.Duration.String()`: `0s`, `120ms`, `1.574s`, `1m26.4s`, `2h0m0s`."""
    if seconds <= 0:
        return "0s"
    millis = round(seconds * 1000)
    if millis == 0:
        return "0s"
    if millis < 1000:
        return f"{millis}ms"
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
