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

`FrontBudgets` (here) and `OpenAIBudgets` (`limits.openai_budgets`) turn the two APIs'
headers and 429s into those operations. No aiohttp or openai import here: headers are
plain `Mapping[str, str]`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Literal

from frontscan.limits.bucket import Budget, clock
from frontscan.limits.retry import (
    backoff_delay,
    header_float,
    lower_headers,
    parse_retry_after,
    reset_in_from_epoch,
)
from frontscan.limits.share import CompanyShare

logger = logging.getLogger(__name__)

FRONT_STARTER_RPM = 50  # Front's smallest plan: the safe guess until headers say more
FRONT_SEARCH_SHARE = 0.4  # "proportional rate limiting at 40% of your company's rate limit"
FRONT_MIN_DELAY = 0.5  # never retry Front sooner than this (front-api.md §4)


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

    frontscan takes what other integrations on the same company are observed to leave,
    less a `reserve` (see `frontscan.limits.share`); until it has seen one whole window
    it runs at `limit * (1 - headroom)`. `rpm=0` means "learn": start at Front's
    smallest plan (50 rpm, less headroom) and follow `x-ratelimit-limit` once a response
    shows it. A configured rpm is a ceiling: the headers only ever lower it.
    """

    def __init__(self, rpm: int, headroom: float = 0.1, *, reserve: float = 0.05) -> None:
        if rpm < 0:
            raise ValueError("rpm must be >= 0 (0 learns it from the headers)")
        if not 0.0 <= headroom < 1.0:
            raise ValueError("headroom must be in [0, 1)")
        self.headroom = headroom
        self.learning = rpm == 0
        self.limit: float | None = float(rpm) if rpm else None
        self.share = CompanyShare(reserve, headroom)
        self._ceiling = rpm * (1.0 - headroom) if rpm else None
        company = (rpm or FRONT_STARTER_RPM) * (1.0 - headroom)
        self.company = Budget(company, name="front")
        self.search = Budget(company * FRONT_SEARCH_SHARE, name="front-search")
        self.others_per_minute: float | None = None  # other integrations, last whole window
        self._streak = _Streak()

    async def acquire_call(self, kind: Literal["search", "other"]) -> float:
        """Acquire one request; a search also takes from the search budget (first, so a
        search queued on its own budget does not hold company capacity meanwhile)."""
        waited = await self.search.acquire() if kind == "search" else 0.0
        return waited + await self.company.acquire()

    def observe(
        self,
        headers: Mapping[str, str],
        *,
        kind: Literal["search", "other"] = "other",
        admitted: bool = True,
    ) -> None:
        """Learn from any response's `x-ratelimit-*` headers (`admitted`: not a 429).

        The limit and the company share are learned only from non-search responses:
        whether a search response reports the company limit or the 40% search limit is
        not documented, and taking the latter for the former would cut the whole budget
        by 60%. For the same reason a search response re-syncs only the search budget.
        """
        lowered = lower_headers(headers)
        limit = header_float(lowered, "x-ratelimit-limit")
        remaining = header_float(lowered, "x-ratelimit-remaining")
        reset = header_float(lowered, "x-ratelimit-reset")
        reset_in = reset_in_from_epoch(reset)
        if kind == "search":
            if admitted:
                self.share.count_ours()
            if remaining is not None and reset_in is not None:
                self.search.sync_remaining(remaining, max(0.0, reset_in))
            return
        if limit is not None and limit > 0:
            if self.learning or self.limit is None or limit < self.limit:
                self.limit = limit
            if remaining is not None and reset is not None and reset_in is not None:
                view = self.share.observe(
                    limit=limit,
                    remaining=remaining,
                    reset=reset if reset < 1e11 else reset / 1000.0,
                    admitted=admitted,
                    burst_remaining=header_float(lowered, "x-ratelimit-burst-remaining"),
                )
                self.others_per_minute = view.others
                self._set_rate(view.per_minute)
                if view.spendable is not None:
                    self.company.sync_remaining(view.spendable, max(0.0, reset_in))
                return
            self._set_rate(self.share.per_minute(limit))
        if remaining is not None and reset_in is not None:
            self.company.sync_remaining(remaining, max(0.0, reset_in))

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

    def _set_rate(self, per_minute: float) -> None:
        target = min(per_minute, self._ceiling) if self._ceiling else per_minute
        if target != self.company.per_minute:
            _log_rate("front", self.limit or target, target)
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
