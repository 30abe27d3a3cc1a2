"""Counters both fake servers keep, so tests and benchmarks can see what a client did.

One `SimStats` per server, mutated only on the event loop; `snapshot()` is the JSON
served at `GET /_sim/stats` and what `RunningSimulator.stats()` returns in-process.
The middleware counts every request (including 429s and faults) because a client's
cost is everything it sent, not what succeeded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class SimStats:
    """Mutable on purpose: the server owns it and bumps counters as requests arrive."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    rate_limited: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    mistakes: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    peak_concurrency: int = 0
    sdk_retries: int = 0
    tokens_charged: int = 0  # TPM charged at admission: prompt estimate + completion budget
    prompt_tokens_charged: int = 0  # the prompt part of it (UTF-8 bytes / 4)
    completion_budget_charged: int = 0  # the `max_completion_tokens` part of it
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    def snapshot(self) -> dict[str, Any]:
        """A JSON-ready copy; safe to keep while the server goes on counting."""
        return {
            "requests": dict(self.requests),
            "total_requests": self.total_requests,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "rate_limited": dict(self.rate_limited),
            "faults": dict(self.faults),
            "mistakes": dict(self.mistakes),
            "in_flight": self.in_flight,
            "peak_concurrency": self.peak_concurrency,
            "sdk_retries": self.sdk_retries,
            "tokens_charged": self.tokens_charged,
            "prompt_tokens_charged": self.prompt_tokens_charged,
            "completion_budget_charged": self.completion_budget_charged,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


def route_name(request: web.Request) -> str:
    """The route template (`GET /conversations/{id}`), so ids do not explode the counter."""
    info = request.match_info.route.resource
    template = info.canonical if info is not None else request.path
    return f"{request.method} {template}"


def stats_middleware(stats: SimStats) -> Middleware:
    """Count requests, statuses, concurrency and SDK retries; leave `/_sim/*` out."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            return await handler(request)
        stats.requests[route_name(request)] += 1
        retry = request.headers.get("x-stainless-retry-count", "0")
        if retry.isdigit() and int(retry) > 0:
            stats.sdk_retries += 1
        stats.in_flight += 1
        stats.peak_concurrency = max(stats.peak_concurrency, stats.in_flight)
        try:
            response = await handler(request)
        except web.HTTPException as error:
            stats.statuses[error.status] += 1
            raise
        finally:
            stats.in_flight -= 1
        stats.statuses[response.status] += 1
        return response

    return middleware


def stats_route(stats: SimStats) -> Handler:
    """`GET /_sim/stats`: unauthenticated and unthrottled, it is the harness's window."""

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.json_response(stats.snapshot())

    return handler
