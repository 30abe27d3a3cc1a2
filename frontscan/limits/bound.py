"""The rate-limit bound: the fastest a run's work could have gone under its limits.

Benchmarks and the summary report throughput as a ratio to it (DESIGN §4), so it lives
beside the budgets whose rates it divides by. What the clients spent arrives as
`ApiUsage`, the one shape a client reports its counters and limits in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from frontscan.models import RunStats


@dataclass(slots=True)
class ApiCounters:
    """What one API client has spent so far; mutable, owned and updated by that client."""

    calls: int = 0
    rate_limited: int = 0
    throttled_seconds: float = 0.0
    http_seconds: float = 0.0  # time inside requests, budget waits excluded
    prompt_tokens: int = 0
    completion_tokens: int = 0
    completion_budget: int = 0  # OpenAI: max_completion_tokens asked for, all calls
    length_retries: int = 0  # OpenAI: answers cut off, asked once more with a larger budget

    def usage(self, **limits: Any) -> ApiUsage:
        """These counters frozen now, with the limits the client ran under."""
        return ApiUsage(
            calls=self.calls,
            rate_limited=self.rate_limited,
            throttled_seconds=self.throttled_seconds,
            http_seconds=self.http_seconds,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            completion_budget=self.completion_budget,
            **limits,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiUsage:
    """A client's counters frozen at one moment, with the rate limits it ran under.

    The runner reads only this (`FrontClient.usage()`, `OpenAIExtractor.usage()`), never
    the clients' budgets, to fill `RunStats` and to compute the rate-limit bound.
    """

    calls: int = 0
    rate_limited: int = 0
    throttled_seconds: float = 0.0
    http_seconds: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests_per_minute: float = 0.0  # the limit the server reported, else the configured one
    tokens_per_minute: float = 0.0  # OpenAI only
    completion_budget: int = 0  # OpenAI: max_completion_tokens asked for, all calls
    # OpenAI, for the bound: what the server charged (its headers) beyond what its buckets
    # held at the start; without headers, what frontscan reserved and the calls it made
    tokens_charged: int = 0
    requests_charged: int | None = None  # None: the calls made
    server_tokens: int | None = None  # OpenAI: all TPM the server charged; None: no headers
    search_calls: int = 0  # Front only: calls under the search sub-limit
    search_share: float = 1.0  # Front only: the part of the budget search may use


def with_usage(stats: RunStats, front: ApiUsage, openai: ApiUsage) -> RunStats:
    """The pipeline's conversation counters plus what both API clients reported."""
    return replace(
        stats,
        front_calls=front.calls,
        openai_calls=openai.calls,
        prompt_tokens=openai.prompt_tokens,
        completion_tokens=openai.completion_tokens,
        completion_budget=openai.completion_budget,
        server_tokens=openai.server_tokens,
        rate_limited=front.rate_limited + openai.rate_limited,
        throttled_seconds=front.throttled_seconds + openai.throttled_seconds,
    )


def usage_bound(front: ApiUsage, openai: ApiUsage, *, concurrency: int) -> float:
    """DESIGN §4 for one run: the bound of what both clients did under their limits.

    Front searches have their own share of the Front budget, so they bound it too.
    """
    bound = bound_seconds(
        front_calls=front.calls,
        front_rpm=front.requests_per_minute,
        llm_calls=openai.calls if openai.requests_charged is None else openai.requests_charged,
        openai_rpm=openai.requests_per_minute,
        llm_tokens=openai.tokens_charged,
        openai_tpm=openai.tokens_per_minute,
        conversations=1,
        latency_seconds=front.http_seconds + openai.http_seconds,
        concurrency=concurrency,
    )
    search_rpm = front.requests_per_minute * front.search_share
    return max(bound, 60.0 * front.search_calls / search_rpm) if search_rpm > 0 else bound


def bound_seconds(
    *,
    front_calls: int,
    front_rpm: float,
    llm_calls: int,
    openai_rpm: float,
    llm_tokens: int,
    openai_tpm: float,
    conversations: int,
    latency_seconds: float,
    concurrency: int,
) -> float:
    """The fastest this work could possibly have run (DESIGN §4), in seconds.

    Whichever budget is tightest sets the pace: each rate-limited resource needs
    amount / per-minute-rate minutes, and latency caps what `concurrency` workers can do.
    A rate of 0 means "not limited / not used", so that term is left out.
    """
    budgets = ((front_calls, front_rpm), (llm_calls, openai_rpm), (llm_tokens, openai_tpm))
    terms = [60.0 * amount / per_minute for amount, per_minute in budgets if per_minute > 0]
    terms.append(0.0)
    if concurrency > 0:
        terms.append(conversations * latency_seconds / concurrency)
    return max(terms)
