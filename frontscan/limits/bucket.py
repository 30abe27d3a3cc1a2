"""One rate limit as a FIFO token bucket: `Budget`, built on `aiolimiter.AsyncLimiter`.

Why not aiolimiter alone: it refills over whatever period it is given (a whole minute would
allow a minute's burst at start), queues waiters by *amount* (a large token charge starves
behind small ones), cannot pause or be pre-charged, and has no refund. `Budget` keeps
aiolimiter for the pacing and adds a short refill period, FIFO order, pauses after a 429
and a re-sync from the server's `remaining`, all timed by the loop's clock (`clock()`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

MAX_PERIOD = 60.0  # a bucket never holds more than one minute's budget
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BudgetStats:
    """A snapshot of one budget's counters, for the progress display and benchmarks."""

    name: str
    per_minute: float
    acquired: float  # total amount admitted (requests or tokens)
    calls: int  # number of acquire() calls admitted
    waited: float  # seconds callers spent blocked in acquire(): "throttled" time
    pauses: int  # pauses started or extended (429s, exhausted `remaining`)
    paused_seconds: float  # wall time covered by those pauses, overlaps merged
    held_back: float  # amount pre-charged because the server had less left than we thought
    clamped: int  # charges larger than a whole minute's budget, admitted as one minute's
    credited: float = 0.0  # amount granted beyond the local bucket because the server had it


class Budget:
    """One rate limit of `per_minute` units, paced over a short period, acquired FIFO.

    The underlying `AsyncLimiter` has capacity `per_minute / 60 * period`, with `period`
    the smallest of at least `min_period` seconds that fits the largest charge seen. A
    cold start may therefore burst about one second's share, never a minute's. A charge
    larger than the capacity grows the period (up to 60 s); one larger than a whole
    minute's budget is clamped to it (the server would refuse it anyway) rather than let
    aiolimiter raise ValueError.

    FIFO: every acquirer queues on an `asyncio.Lock` (which wakes waiters in arrival
    order) and only the head of the queue waits inside the limiter. aiolimiter's own
    waiter heap is ordered by amount, and a newcomer that fits takes capacity without
    queueing, so under a steady stream of small token charges a big one could wait
    forever.

    aiolimiter has no way to pre-charge or inspect its level, so the budget mirrors the
    level itself and keeps a `debt`: capacity to consume before the next admission. Debt
    is how re-syncs hold back, and how a rebuilt limiter (new rate, pause) starts out as
    full as the old one was instead of granting a fresh burst.
    """

    def __init__(
        self,
        per_minute: float,
        *,
        name: str = "budget",
        max_charge: float = 1.0,
        min_period: float = 1.0,
    ) -> None:
        _check_rate(per_minute)
        if not (math.isfinite(min_period) and 0 < min_period <= MAX_PERIOD):
            raise ValueError("min_period must be in (0, 60] seconds")
        self.name = name
        self._min_period = min_period
        self._fit_charge = max(float(max_charge), 0.0)
        self._lock = asyncio.Lock()
        self._paused_until = 0.0  # a clock() value
        self._debt = 0.0
        self._level = 0.0  # mirror of the limiter's level at self._level_at
        self._level_at = clock()
        self._acquired = 0.0
        self._calls = 0
        self._waited = 0.0
        self._pauses = 0
        self._paused_seconds = 0.0
        self._held_back = 0.0
        self._clamped = 0
        self._credit = 0.0  # admissible at once: the server said it has this much more
        self._credited = 0.0
        self._install(float(per_minute), self._period_for(float(per_minute)))

    # -- public API -------------------------------------------------------------------

    @property
    def per_minute(self) -> float:
        return self._per_minute

    @property
    def capacity(self) -> float:
        """The most that can be admitted at once from an idle bucket."""
        return self._capacity

    @property
    def period(self) -> float:
        return self._period

    @property
    def credit(self) -> float:
        """What the server said it has beyond our local bucket, not yet spent."""
        return self._credit

    @property
    def paused_for(self) -> float:
        """Seconds until a pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - clock())

    @property
    def stats(self) -> BudgetStats:
        return BudgetStats(
            name=self.name,
            per_minute=self._per_minute,
            acquired=self._acquired,
            calls=self._calls,
            waited=self._waited,
            pauses=self._pauses,
            paused_seconds=self._paused_seconds,
            held_back=self._held_back,
            clamped=self._clamped,
            credited=self._credited,
        )

    async def acquire(self, amount: float = 1.0) -> float:
        """Wait until `amount` fits, in arrival order; return the seconds spent waiting."""
        if not (math.isfinite(amount) and amount >= 0):
            raise ValueError("amount must be a finite number >= 0")
        start = clock()
        async with self._lock:
            take = self._fit(amount)
            while True:
                await self._sleep_through_pause()
                if self._credit >= take > 0:  # the server has room beyond our bucket
                    self._credit -= take
                    break
                limiter = self._limiter
                if self._debt > 0:
                    chunk = min(self._debt, limiter.max_rate)
                    await limiter.acquire(chunk)
                    if limiter is self._limiter:
                        self._debt = max(0.0, self._debt - chunk)
                        self._record(chunk)
                    continue
                take = min(take, limiter.max_rate)
                await limiter.acquire(take)
                if limiter is self._limiter:
                    self._record(take)
                else:
                    # Rebuilt (pause, new rate) while we waited: we go, but the new
                    # limiter must still account for us, so the next caller pays.
                    self._debt += take
                # A pause that began while we waited binds us too.
                await self._sleep_through_pause()
                break
        waited = clock() - start
        self._acquired += take
        self._calls += 1
        self._waited += waited
        return waited

    def set_rate(self, per_minute: float) -> None:
        """Change the rate, e.g. once the real limit is known from headers.

        The limiter is rebuilt (aiolimiter cannot change rate in place); the new one
        inherits the old level as debt, so a change never grants an extra burst, and
        FIFO order is unaffected because the lock queue stays.
        """
        _check_rate(per_minute)
        if math.isclose(per_minute, self._per_minute, rel_tol=1e-9):
            return
        self._rebuild(float(per_minute), self._period_for(float(per_minute)))

    def pause(self, seconds: float, *, cause: str = "429") -> None:
        """Admit nothing for `seconds`; then resume at the bucket rate, not in a burst.

        Every acquirer, queued or new, waits out the pause. The bucket is refilled to
        full at the end (debt = capacity), so the queue drains at the steady rate: after
        a 429 the server has little or nothing left, and a burst would trip it again.
        Pauses merge: a shorter one inside a longer one changes nothing.
        """
        if not (math.isfinite(seconds) and seconds > 0):
            return
        now = clock()
        until = now + seconds
        if until <= self._paused_until:
            return
        self._pauses += 1
        self._paused_seconds += until - max(now, self._paused_until)
        logger.info(
            "%s paused %.2f s (%s)", self.name, seconds, cause,
            extra={"event": "budget.pause", "budget": self.name, "delay": round(seconds, 3),
                   "cause": cause},
        )  # fmt: skip
        self._paused_until = until
        self._install(self._per_minute, self._period)
        self._level, self._level_at = 0.0, now
        self._debt = max(self._debt, self._capacity)
        self._credit = 0.0

    def sync_remaining(
        self,
        remaining: float,
        reset_in: float,
        *,
        continuous: bool = False,
        both_ways: bool = False,
    ) -> float:
        """Hold back when the server has less left than our local view allows.

        Fixed window (Front): the server admits `remaining` more until `reset_in` seconds
        from now, while we would admit our free capacity plus `rate * reset_in`. The
        excess becomes debt, so we stay under `remaining`; nothing left at all means a
        pause until the reset. Continuous refill (OpenAI, where "reset" is the time until
        the bucket is full again): the server refills at least as fast as our rate, so
        only free capacity beyond `remaining` is excess. Debt already owed counts against
        the local view, so repeated syncs from the same window do not double-count.
        Returns the seconds of hold-back added. Nonsense values are ignored: the headers
        are hints.

        `both_ways` (continuous only) also follows the server up: when it has more left
        than our local view, the difference is paid off debt first, then becomes credit,
        admitted at once and beyond the short local bucket. The local view includes any
        credit, so a later sync that finds less left takes credit back before adding debt.
        """
        if not (math.isfinite(remaining) and math.isfinite(reset_in)) or reset_in < 0:
            return 0.0
        remaining = max(0.0, remaining)
        now = clock()
        free = self._capacity - self._level_now(now) - self._debt + self._credit
        if continuous:
            excess = free - remaining
            if both_ways:
                return self._follow(excess)
        else:
            if reset_in > 2 * MAX_PERIOD:  # not a per-minute window
                return 0.0
            if remaining <= 0:
                before = self.paused_for
                self.pause(reset_in, cause="the server reports 0 remaining until the reset")
                return max(0.0, self.paused_for - before)
            window = max(0.0, reset_in - max(0.0, self._paused_until - now))
            excess = free + self._rate * window - remaining
        if excess <= 0:
            return 0.0
        self._debt += excess
        self._held_back += excess
        logger.info(
            "%s re-synced: the server has %g left, holding back %g (%.2f s)",
            self.name, remaining, excess, excess / self._rate,
            extra={"event": "budget.resync", "budget": self.name, "remaining": remaining,
                   "reset_in": round(reset_in, 3), "held_back": round(excess, 3),
                   "delay": round(excess / self._rate, 3), "cause": "x-ratelimit-remaining"},
        )  # fmt: skip
        return excess / self._rate

    # -- internals --------------------------------------------------------------------

    def _follow(self, excess: float) -> float:
        """Move the local view by `excess` (positive: hold back; negative: grant)."""
        if excess > 0:
            taken = min(self._credit, excess)
            self._credit -= taken
            excess -= taken
            self._debt += excess
            self._held_back += excess
            return excess / self._rate
        grant = -excess
        paid = min(self._debt, grant)
        self._debt -= paid
        self._credit += grant - paid
        self._credited += grant - paid
        return 0.0

    def _period_for(self, per_minute: float) -> float:
        needed = self._fit_charge * 60.0 / per_minute
        return min(MAX_PERIOD, max(self._min_period, needed))

    def _install(self, per_minute: float, period: float) -> None:
        self._per_minute = per_minute
        self._rate = per_minute / 60.0
        self._period = period
        self._capacity = self._rate * period
        self._limiter = _Limiter(self._capacity, period)

    def _rebuild(self, per_minute: float, period: float) -> None:
        now = clock()
        carried = self._level_now(now)
        self._install(per_minute, period)
        self._debt += min(carried, self._capacity)
        self._level, self._level_at = 0.0, now

    def _fit(self, amount: float) -> float:
        """Make room for a charge bigger than the capacity, or clamp it to one minute's."""
        if amount <= self._capacity:
            return amount
        if self._period < MAX_PERIOD:
            # Twice the charge, so it passes at once from an idle bucket even after
            # inheriting the old level as debt.
            self._fit_charge = max(self._fit_charge, 2.0 * amount)
            self._rebuild(self._per_minute, self._period_for(self._per_minute))
        if amount > self._capacity:
            self._clamped += 1
            return self._capacity
        return amount

    def _level_now(self, now: float) -> float:
        return max(0.0, self._level - max(0.0, now - self._level_at) * self._rate)

    def _record(self, amount: float) -> None:
        now = clock()
        self._level = min(self._capacity, self._level_now(now) + amount)
        self._level_at = now

    async def _sleep_through_pause(self) -> None:
        """Sleep until no pause is in force, including one extended while we slept."""
        left = self.paused_for
        while left > 0:
            await asyncio.sleep(left)
            left = self.paused_for


class _Limiter:
    """The part of `aiolimiter.AsyncLimiter` the budget uses, typed even if aiolimiter isn't."""

    def __init__(self, max_rate: float, time_period: float) -> None:
        self._inner = AsyncLimiter(max_rate, time_period)
        self.max_rate = max_rate

    async def acquire(self, amount: float) -> None:
        await self._inner.acquire(amount)


def clock() -> float:
    """The running loop's `time()`, which aiolimiter and `asyncio.sleep` go by (so a test
    loop on virtual time drives the bucket); outside a loop, `time.monotonic()`, the same."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()


def _check_rate(per_minute: float) -> None:
    if not (math.isfinite(per_minute) and per_minute > 0):
        raise ValueError(f"a rate limit must be a positive number per minute, not {per_minute}")
