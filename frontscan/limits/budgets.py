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

import logging
import math
import re
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Literal

from frontscan.limits.bucket import MAX_PERIOD, Budget, clock
from frontscan.limits.retry import (
    backoff_delay,
    go_duration_or_none,
    header_float,
    lower_headers,
    parse_retry_after,
    reset_in_from_epoch,
)

logger = logging.getLogger(__name__)

FRONT_STARTER_RPM = 50  # Front's smallest plan: the safe guess until headers say more
FRONT_SEARCH_SHARE = 0.4  # "proportional rate limiting at 40% of your company's rate limit"
FRONT_MIN_DELAY = 0.5  # never retry Front sooner than this (front-api.md §4)
OPENAI_MIN_DELAY = 0.25  # OpenAI hints can be 12 ms; a pause that short just re-trips it


class _Streak:
    """Counts 429s that came without any delay hint, to grow the fallback backoff.

    Forgotten after a quiet minute, so an old storm does not make a new 429 wait long.
    """

    def __init__(self, forget_after: float = 60.0) -> None:
        self._forget_after = forget_after
        self._count = 0
        self._last = -math.inf

    def next_attempt(self) -> int:
        at = clock()
        if at - self._last > self._forget_after:
            self._count = 0
        attempt, self._count, self._last = self._count, self._count + 1, at
        return attempt


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
        reset_in = reset_in_from_epoch(header_float(lowered, "x-ratelimit-reset"))
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
            delay = reset_in_from_epoch(header_float(lowered, "x-ratelimit-reset"))
            if delay is not None and delay <= 0:
                delay = None
        if delay is None:
            delay = backoff_delay(self._streak.next_attempt())
        delay = max(FRONT_MIN_DELAY, delay)
        remaining = header_float(lowered, "x-ratelimit-remaining")
        if remaining is not None and remaining > 0:
            if "x-front-tier" in lowered:
                _log_429("front", "resource", delay, body_text)
                return delay
            if kind == "search":
                _log_429("front", "search", delay, body_text)
                self.search.pause(delay, cause="Front 429 on search")
                return delay
        _log_429("front", "company", delay, body_text)
        self.company.pause(delay, cause="Front 429")
        return delay

    def _learn(self, limit: float) -> None:
        target = limit * (1.0 - self.headroom)
        if self.learning or target < self.company.per_minute:
            if limit != self.limit:
                _log_rate("front", limit, target)
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
            reset = go_duration_or_none(lowered.get(f"x-ratelimit-reset-{dim}"))
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
            delay = go_duration_or_none(lowered.get(f"x-ratelimit-reset-{kind}"))
        if delay is None or delay <= 0:
            delay = backoff_delay(self._streak.next_attempt())
        delay = max(OPENAI_MIN_DELAY, delay)
        _log_429("openai", kind or "both", delay, message)
        if kind != "tokens":
            self.requests.pause(delay, cause=f"OpenAI 429 ({kind or 'unknown'})")
        if kind != "requests":
            self.tokens.pause(delay, cause=f"OpenAI 429 ({kind or 'unknown'})")
        return delay

    def _tighten(self, budget: Budget, limit: float) -> None:
        target = limit * (1.0 - self.headroom)
        if 0 < target < budget.per_minute:
            _log_rate(budget.name, limit, target)
            budget.set_rate(target)


def _log_429(api: str, scope: str, delay: float, said: str) -> None:
    logger.info(
        "%s 429 (%s): waiting %.2f s", api, scope, delay,
        extra={"event": f"{api}.rate_limited", "scope": scope, "delay": round(delay, 3),
               "cause": said[:200]},
    )  # fmt: skip


def _log_rate(budget: str, limit: float, target: float) -> None:
    logger.info(
        "%s limit is %g per minute: running at %g", budget, limit, target,
        extra={"event": "budget.rate", "budget": budget, "limit": limit, "rate": target},
    )  # fmt: skip


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
