"""OpenAI's RPM and TPM budgets, charged as the server charges (openai.md §1.2).

Every call charges 1 request and `prompt estimate + max_completion_tokens` tokens up
front. The server's own count is the truth: `ServerMeter`s learn it from the drop in
`x-ratelimit-remaining-*`, the prompt part of each later charge is scaled to it, and both
buckets re-sync from `remaining` in both directions. No openai import: headers are plain
`Mapping[str, str]`.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Mapping

from frontscan.limits.bucket import MAX_PERIOD, Budget, clock
from frontscan.limits.budgets import _log_429, _log_rate, _Streak
from frontscan.limits.meter import MeterReading, ServerMeter
from frontscan.limits.retry import (
    backoff_delay,
    go_duration_or_none,
    header_float,
    lower_headers,
    parse_retry_after,
)

SYNC_MARGIN = 0.02  # share of an OpenAI limit never re-synced into (calls in flight)
OPENAI_MIN_DELAY = 0.25  # OpenAI hints can be 12 ms; a pause that short just re-trips it
_OPENAI_MINUTE_LIMIT = re.compile(r"per min \((RPM|TPM)\): Limit (\d+)")


class OpenAIBudgets:
    """OpenAI's requests-per-minute and tokens-per-minute budgets for one model.

    Every call charges 1 request and `prompt estimate + max_completion_tokens` tokens up
    front, as the server does (openai.md §1.2). The server's own count is the truth: the
    `ServerMeter`s learn it from the drop in `x-ratelimit-remaining-*`, the prompt part
    of every later charge is scaled to it, and `observe` re-syncs both buckets from
    `remaining` in both directions. Until a response says otherwise (or when the headers
    never come), `reconcile` corrects charges upward from observed usage.
    """

    def __init__(self, rpm: int, tpm: int, *, headroom: float = 0.0) -> None:
        if not 0.0 <= headroom < 1.0:
            raise ValueError("headroom must be in [0, 1)")
        self.headroom = headroom
        self.requests = Budget(rpm, name="openai-rpm")
        self.tokens = Budget(tpm, name="openai-tpm")
        self.token_meter = ServerMeter()
        self.request_meter = ServerMeter()
        self._ratios: deque[float] = deque(maxlen=256)
        self._streak = _Streak()

    @property
    def correction(self) -> float:
        """The factor applied to every token charge while the server's scale is unknown:
        recent `usage_total / charged`.

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

    def charge(self, estimate: int, completion: int = 0) -> int:
        """The tokens one call is charged locally: the prompt part (`estimate - completion`)
        at the server's learned scale (else all of it times `correction`), plus the
        completion budget in full, which the server reserves whole."""
        scale = self.token_meter.scale
        if scale is None:
            return math.ceil(estimate * self.correction)
        return math.ceil(max(0, estimate - completion) * scale) + completion

    async def acquire(self, charge: int, *, completion: int = 0) -> float:
        """Acquire one request and the tokens of a call estimated at `charge` tokens, of
        which `completion` is the completion budget (see `charge`).

        Tokens first, since they usually bind: the request slot is then not taken
        (and its capacity wasted) while tokens trickle in.
        """
        waited = await self.tokens.acquire(self.charge(charge, completion))
        waited += await self.requests.acquire(1)
        self.token_meter.sent(max(0, charge - completion), completion)
        self.request_meter.sent(0, 1)
        return waited

    def server_view(self) -> tuple[MeterReading | None, MeterReading | None]:
        """(tokens, requests) as the server counted them; None where no header came."""
        return self.token_meter.reading(), self.request_meter.reading()

    def reconcile(self, charged: int, usage_total: int) -> None:
        """Record a call's `usage.total_tokens` against the `charge` it was acquired with.

        Not a refund (aiolimiter has none, and the server reserved the whole charge
        anyway): it only corrects future charges, see `correction`.
        """
        if charged > 0 and usage_total > 0:
            self._ratios.append(usage_total / charged)

    def observe(self, headers: Mapping[str, str], *, both_ways: bool = True) -> None:
        """Tighten rates from `x-ratelimit-limit-*`, learn the server's charges and
        re-sync from `remaining-*`.

        Limits only ever lower a rate (the configured one may be the operator's choice of
        a smaller share), and only from a bucket that looks per-minute: the headers may
        describe a per-day bucket, and 10,000 RPD read as RPM would be a disaster. The
        re-sync goes both ways (`Budget.sync_remaining`) for a per-minute bucket: less
        left than we think holds back, more left is spent, so the local estimate only
        bridges the first seconds. 429s sync only downward (`both_ways=False`).
        """
        lowered = lower_headers(headers)
        now = clock()
        for budget, meter, dim in (
            (self.requests, self.request_meter, "requests"),
            (self.tokens, self.token_meter, "tokens"),
        ):
            limit = header_float(lowered, f"x-ratelimit-limit-{dim}")
            remaining = header_float(lowered, f"x-ratelimit-remaining-{dim}")
            reset = go_duration_or_none(lowered.get(f"x-ratelimit-reset-{dim}"))
            if limit is not None and limit <= 0:
                continue  # Azure sends -1/0 when it has nothing to say
            if remaining is None or reset is None:
                continue
            per_minute = limit is not None and _looks_per_minute(limit, remaining, reset)
            if limit is not None and per_minute:
                self._tighten(budget, limit)
            if limit is not None and (per_minute or remaining >= limit):
                meter.seen(now, remaining, limit)
            # A response's `remaining` predates calls sent since: keep a margin for them.
            share = max(0.0, remaining - (limit or 0.0) * (self.headroom + SYNC_MARGIN))
            budget.sync_remaining(share, reset, continuous=True, both_ways=both_ways and per_minute)

    def on_429(self, kind: str | None, message: str, headers: Mapping[str, str]) -> float:
        """Pause the budget a rate-limit 429 was about; return the delay.

        `kind` is the error body's `type`: "requests" pauses RPM, "tokens" pauses TPM,
        anything else both. Delay: "Please try again in <go duration>" from the message,
        else `retry-after-ms`, `retry-after`, the matching `x-ratelimit-reset-*`, then
        jittered backoff. A "per min (RPM|TPM): Limit N" in the message tightens the rate.
        Quota and "request too large" errors must not come here: they are not waits.
        """
        lowered = lower_headers(headers)
        self.observe(lowered, both_ways=False)  # 429s carry the headers too
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
