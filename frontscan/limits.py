"""Rate-limit budgets: spend each API's limit as fully as possible without tripping it.

frontscan's whole cost is API calls, so its throughput is set by how closely it follows
four limits (DESIGN.md §4): Front's company-wide RPM, Front's search share (40% of it),
OpenAI RPM and OpenAI TPM. Each is a `Budget`, an `aiolimiter.AsyncLimiter` wrapped so
that:

* it refills over a short period (about one second's share of the per-minute rate), so a
  run starts with a small burst instead of a whole minute's worth at once;
* acquisition is FIFO, because aiolimiter keeps waiters in a heap ordered by *amount*,
  and a large OpenAI token charge would otherwise starve behind a stream of small ones;
* it can pause as a whole after a 429 and then resume at the bucket rate, with no
  thundering herd;
* it can be re-synced from the server's own `remaining`, because other integrations
  spend the same Front budget and OpenAI's limits are per organization.

`FrontBudgets` and `OpenAIBudgets` turn the two APIs' headers and 429s into those
operations. No aiohttp or openai import here: headers are plain `Mapping[str, str]`.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from aiolimiter import AsyncLimiter

from frontscan.retry import (
    backoff_delay,
    header_float,
    lower_headers,
    parse_go_duration,
    parse_retry_after,
    with_retries,
)

__all__ = [  # the retry helpers are re-exported: callers import everything from here
    "Budget",
    "BudgetStats",
    "FrontBudgets",
    "OpenAIBudgets",
    "backoff_delay",
    "estimate_prompt_tokens",
    "parse_go_duration",
    "parse_retry_after",
    "with_retries",
]

MAX_PERIOD = 60.0  # a bucket never holds more than one minute's budget
FRONT_STARTER_RPM = 50  # Front's smallest plan: the safe guess until headers say more
FRONT_SEARCH_SHARE = 0.4  # "proportional rate limiting at 40% of your company's rate limit"
FRONT_MIN_DELAY = 0.5  # never retry Front sooner than this (front-api.md §4)
OPENAI_MIN_DELAY = 0.25  # OpenAI hints can be 12 ms; a pause that short just re-trips it


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
        self._paused_until = 0.0  # time.monotonic() value
        self._debt = 0.0
        self._level = 0.0  # mirror of the limiter's level at self._level_at
        self._level_at = time.monotonic()
        self._acquired = 0.0
        self._calls = 0
        self._waited = 0.0
        self._pauses = 0
        self._paused_seconds = 0.0
        self._held_back = 0.0
        self._clamped = 0
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
    def paused_for(self) -> float:
        """Seconds until a pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - time.monotonic())

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
        )

    async def acquire(self, amount: float = 1.0) -> float:
        """Wait until `amount` fits, in arrival order; return the seconds spent waiting."""
        if not (math.isfinite(amount) and amount >= 0):
            raise ValueError("amount must be a finite number >= 0")
        start = time.monotonic()
        async with self._lock:
            take = self._fit(amount)
            while True:
                await self._sleep_through_pause()
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
        waited = time.monotonic() - start
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

    def pause(self, seconds: float) -> None:
        """Admit nothing for `seconds`; then resume at the bucket rate, not in a burst.

        Every acquirer, queued or new, waits out the pause. The bucket is refilled to
        full at the end (debt = capacity), so the queue drains at the steady rate: after
        a 429 the server has little or nothing left, and a burst would trip it again.
        Pauses merge: a shorter one inside a longer one changes nothing.
        """
        if not (math.isfinite(seconds) and seconds > 0):
            return
        now = time.monotonic()
        until = now + seconds
        if until <= self._paused_until:
            return
        self._pauses += 1
        self._paused_seconds += until - max(now, self._paused_until)
        self._paused_until = until
        self._install(self._per_minute, self._period)
        self._level, self._level_at = 0.0, now
        self._debt = max(self._debt, self._capacity)

    def sync_remaining(
        self, remaining: float, reset_in: float, *, continuous: bool = False
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
        """
        if not (math.isfinite(remaining) and math.isfinite(reset_in)) or reset_in < 0:
            return 0.0
        remaining = max(0.0, remaining)
        now = time.monotonic()
        free = self._capacity - self._level_now(now) - self._debt
        if continuous:
            excess = free - remaining
        else:
            if reset_in > 2 * MAX_PERIOD:  # not a per-minute window
                return 0.0
            if remaining <= 0:
                before = self.paused_for
                self.pause(reset_in)
                return max(0.0, self.paused_for - before)
            window = max(0.0, reset_in - max(0.0, self._paused_until - now))
            excess = free + self._rate * window - remaining
        if excess <= 0:
            return 0.0
        self._debt += excess
        self._held_back += excess
        return excess / self._rate

    # -- internals --------------------------------------------------------------------

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
        now = time.monotonic()
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
        now = time.monotonic()
        self._level = min(self._capacity, self._level_now(now) + amount)
        self._level_at = now

    async def _sleep_through_pause(self) -> None:
        """Sleep until no pause is in force, including one extended while we slept."""
        left = self.paused_for
        while left > 0:
            await asyncio.sleep(left)
            left = self.paused_for


class _Limiter:
    """A typed face for `aiolimiter.AsyncLimiter`, which ships no type information."""

    def __init__(self, max_rate: float, time_period: float) -> None:
        self._inner = AsyncLimiter(max_rate, time_period)
        self.max_rate = max_rate

    async def acquire(self, amount: float) -> None:
        await self._inner.acquire(amount)


def _check_rate(per_minute: float) -> None:
    if not (math.isfinite(per_minute) and per_minute > 0):
        raise ValueError(f"a rate limit must be a positive number per minute, not {per_minute}")


class _Streak:
    """Counts 429s that came without any delay hint, to grow the fallback backoff.

    Forgotten after a quiet minute, so an old storm does not make a new 429 wait long.
    """

    def __init__(self, forget_after: float = 60.0) -> None:
        self._forget_after = forget_after
        self._count = 0
        self._last = -math.inf

    def next_attempt(self) -> int:
        now = time.monotonic()
        if now - self._last > self._forget_after:
            self._count = 0
        attempt, self._count, self._last = self._count, self._count + 1, now
        return attempt


def _reset_in_from_epoch(raw: float | None) -> float | None:
    """Seconds until Front's `x-ratelimit-reset` (epoch seconds, by wall clock).

    Front documents seconds; a millisecond value would be 1000x in the future, so it is
    recognised and converted. Anything over an hour away is not a per-minute reset.
    """
    if raw is None or raw <= 0:
        return None
    if raw > 1e11:
        raw /= 1000.0
    reset_in = raw - time.time()
    return reset_in if -5.0 <= reset_in <= 3600.0 else None


class FrontBudgets:
    """Front's company-wide budget and its 40% search budget.

    `rpm` is the plan's limit; frontscan runs at `rpm * (1 - headroom)` to leave room for
    other integrations on the same token. `rpm=0` means "learn": start at Front's
    smallest plan (50 rpm, less headroom) and follow `x-ratelimit-limit` once a response
    shows it. A configured rpm is only ever tightened by the headers, never loosened.
    """

    def __init__(self, rpm: int, headroom: float = 0.1) -> None:
        if rpm < 0:
            raise ValueError("rpm must be >= 0 (0 learns it from the headers)")
        if not 0.0 <= headroom < 1.0:
            raise ValueError("headroom must be in [0, 1)")
        self.headroom = headroom
        self.learning = rpm == 0
        self.limit: float | None = float(rpm) if rpm else None
        company = (rpm or FRONT_STARTER_RPM) * (1.0 - headroom)
        self.company = Budget(company, name="front")
        self.search = Budget(company * FRONT_SEARCH_SHARE, name="front-search")
        self.tier_429s = 0
        self._streak = _Streak()

    async def acquire_call(self, kind: Literal["search", "other"]) -> float:
        """Acquire one request; a search also takes from the search budget (first, so a
        search queued on its own budget does not hold company capacity meanwhile)."""
        waited = await self.search.acquire() if kind == "search" else 0.0
        return waited + await self.company.acquire()

    def observe(
        self, headers: Mapping[str, str], *, kind: Literal["search", "other"] = "other"
    ) -> None:
        """Learn from any response's `x-ratelimit-*` headers.

        The limit is learned only from non-search responses: whether a search response
        reports the company limit or the 40% search limit is not documented, and taking
        the latter for the former would cut the whole budget by 60%. For the same reason
        a search response re-syncs only the search budget.
        """
        lowered = lower_headers(headers)
        limit = header_float(lowered, "x-ratelimit-limit")
        if kind == "other" and limit is not None and limit > 0:
            self._learn(limit)
        remaining = header_float(lowered, "x-ratelimit-remaining")
        reset_in = _reset_in_from_epoch(header_float(lowered, "x-ratelimit-reset"))
        if remaining is not None and reset_in is not None:
            budget = self.search if kind == "search" else self.company
            budget.sync_remaining(remaining, max(0.0, reset_in))

    def on_429(
        self,
        headers: Mapping[str, str],
        body_text: str = "",
        *,
        kind: Literal["search", "other"] = "other",
    ) -> float:
        """Work out how long to wait after a 429, pause what must pause, return the delay.

        Delay: `Retry-After` (seconds), else "retry in N milliseconds" from the body, else
        `x-ratelimit-reset - now`, else jittered exponential backoff; never under 0.5 s.
        What pauses: with `remaining` > 0 and `x-front-tier` set, only one resource hit its
        burst limit, so nothing pauses and the caller waits for that resource alone. With
        `remaining` > 0 on a search, the search budget pauses. Otherwise (remaining 0 or
        unknown) the company budget pauses, and with it every Front call.
        """
        lowered = lower_headers(headers)
        delay = parse_retry_after(lowered, body_text)
        if delay is None:
            delay = _reset_in_from_epoch(header_float(lowered, "x-ratelimit-reset"))
            if delay is not None and delay <= 0:
                delay = None
        if delay is None:
            delay = backoff_delay(self._streak.next_attempt())
        delay = max(FRONT_MIN_DELAY, delay)
        remaining = header_float(lowered, "x-ratelimit-remaining")
        if remaining is not None and remaining > 0:
            if "x-front-tier" in lowered:
                self.tier_429s += 1
                return delay
            if kind == "search":
                self.search.pause(delay)
                return delay
        self.company.pause(delay)
        return delay

    def _learn(self, limit: float) -> None:
        target = limit * (1.0 - self.headroom)
        if self.learning or target < self.company.per_minute:
            self.limit = limit
            self.company.set_rate(target)
            self.search.set_rate(target * FRONT_SEARCH_SHARE)


def estimate_prompt_tokens(messages: Sequence[str]) -> int:
    """A conservative prompt-token count without a tokenizer (openai.md §6).

    UTF-8 bytes / 2.5 per message (e-mail with tracking numbers runs about 3 bytes per
    token, ID-heavy text lower; bytes are a hard upper bound), plus 4 tokens of message
    framing each and 3 for reply priming.
    """
    if isinstance(messages, str):
        raise TypeError("pass a sequence of message texts, not one string")
    return sum(math.ceil(len(text.encode("utf-8")) / 2.5) + 4 for text in messages) + 3


_OPENAI_MINUTE_LIMIT = re.compile(r"per min \((RPM|TPM)\): Limit (\d+)")


class OpenAIBudgets:
    """OpenAI's requests-per-minute and tokens-per-minute budgets for one model.

    Every call charges 1 request and `estimate + max_completion_tokens` tokens up front,
    as the server does (openai.md §1.2). aiolimiter has no refund, so tokens reserved
    but not used are not given back; `reconcile` instead corrects future charges from
    observed usage, and `observe` re-syncs from the server's remaining counts.
    """

    def __init__(self, rpm: int, tpm: int, *, headroom: float = 0.0) -> None:
        if not 0.0 <= headroom < 1.0:
            raise ValueError("headroom must be in [0, 1)")
        self.headroom = headroom
        self.requests = Budget(rpm, name="openai-rpm")
        self.tokens = Budget(tpm, name="openai-tpm")
        self._ratios: deque[float] = deque(maxlen=256)
        self._streak = _Streak()

    @property
    def correction(self) -> float:
        """The factor applied to every token charge: recent `usage_total / charged`.

        Only ever >= 1. Usage above the charge proves the prompt estimate was low (the
        completion cannot exceed its allowance), so future charges grow by the 90th
        percentile of that ratio (the maximum until 10 calls are known), capped at 4.
        Usage below the charge is mostly the unused completion allowance, which the
        server reserves up front too, so it is no reason to charge less.
        """
        if not self._ratios:
            return 1.0
        ordered = sorted(self._ratios)
        index = len(ordered) - 1 if len(ordered) < 10 else math.ceil(0.9 * len(ordered)) - 1
        ratio = ordered[index]
        return min(4.0, max(1.0, ratio))

    def charge_for(
        self, messages: Sequence[str], max_completion_tokens: int, *, extra_tokens: int = 0
    ) -> int:
        """The TPM charge for one call before correction: the prompt estimate, any fixed
        overhead (e.g. the response-format schema), and the whole completion allowance."""
        return estimate_prompt_tokens(messages) + extra_tokens + max_completion_tokens

    async def acquire(self, charge: int) -> float:
        """Acquire one request and `charge` tokens (times `correction`).

        Tokens first, since they usually bind: the request slot is then not taken
        (and its capacity wasted) while tokens trickle in.
        """
        waited = await self.tokens.acquire(math.ceil(charge * self.correction))
        return waited + await self.requests.acquire(1)

    def reconcile(self, charged: int, usage_total: int) -> None:
        """Record a call's `usage.total_tokens` against the `charge` it was acquired with.

        Not a refund (aiolimiter has none, and the server reserved the whole charge
        anyway): it only corrects future charges, see `correction`.
        """
        if charged > 0 and usage_total > 0:
            self._ratios.append(usage_total / charged)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Tighten rates from `x-ratelimit-limit-*` and re-sync from `remaining-*`.

        Limits only ever lower a rate (the configured one may be the operator's choice of
        a smaller share), and only from a bucket that looks per-minute: the headers may
        describe a per-day bucket, and 10,000 RPD read as RPM would be a disaster.
        """
        lowered = lower_headers(headers)
        for budget, dim in ((self.requests, "requests"), (self.tokens, "tokens")):
            limit = header_float(lowered, f"x-ratelimit-limit-{dim}")
            remaining = header_float(lowered, f"x-ratelimit-remaining-{dim}")
            reset = _go_duration_or_none(lowered.get(f"x-ratelimit-reset-{dim}"))
            if limit is not None and limit <= 0:
                continue  # Azure sends -1/0 when it has nothing to say
            if (
                limit is not None
                and remaining is not None
                and reset is not None
                and _looks_per_minute(limit, remaining, reset)
            ):
                self._tighten(budget, limit)
            if remaining is not None and reset is not None:
                budget.sync_remaining(remaining, reset, continuous=True)

    def on_429(self, kind: str | None, message: str, headers: Mapping[str, str]) -> float:
        """Pause the budget a rate-limit 429 was about; return the delay.

        `kind` is the error body's `type`: "requests" pauses RPM, "tokens" pauses TPM,
        anything else both. Delay: "Please try again in <go duration>" from the message,
        else `retry-after-ms`, `retry-after`, the matching `x-ratelimit-reset-*`, then
        jittered backoff. A "per min (RPM|TPM): Limit N" in the message tightens the rate.
        Quota and "request too large" errors must not come here: they are not waits.
        """
        lowered = lower_headers(headers)
        for match in _OPENAI_MINUTE_LIMIT.finditer(message):
            budget = self.requests if match.group(1) == "RPM" else self.tokens
            self._tighten(budget, float(match.group(2)))
        delay = parse_retry_after({}, message)
        if delay is None:
            delay = parse_retry_after(lowered)
        if delay is None and kind in ("requests", "tokens"):
            delay = _go_duration_or_none(lowered.get(f"x-ratelimit-reset-{kind}"))
        if delay is None or delay <= 0:
            delay = backoff_delay(self._streak.next_attempt())
        delay = max(OPENAI_MIN_DELAY, delay)
        if kind != "tokens":
            self.requests.pause(delay)
        if kind != "requests":
            self.tokens.pause(delay)
        return delay

    def _tighten(self, budget: Budget, limit: float) -> None:
        target = limit * (1.0 - self.headroom)
        if 0 < target < budget.per_minute:
            budget.set_rate(target)


def _go_duration_or_none(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = parse_go_duration(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _looks_per_minute(limit: float, remaining: float, reset: float) -> bool:
    """Does (limit, remaining, reset) fit a per-minute continuous bucket?

    OpenAI's reset is the time until the bucket is full: `(limit - remaining) / limit *
    window`. For a per-day bucket it is 1440 times what the per-minute formula predicts,
    so allowing a factor of 2 (plus latency slack) tells them apart. A full bucket
    carries no information either way.
    """
    if not 0 <= remaining < limit or reset > MAX_PERIOD:
        return False
    return reset <= 2.0 * (limit - remaining) / limit * 60.0 + 0.25
