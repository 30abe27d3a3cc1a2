"""A local Front Core API: the routes, envelopes, limits and failures frontscan must survive.

Behaviour follows front-api.md: absolute `_pagination.next` links on this host with an
opaque hex `page_token`, occasional short pages, `_error` bodies, 401/404/301, a fixed
per-minute company bucket with a 40% search sub-bucket, a 5-per-second tier-2 bucket per
conversation on messages, `x-ratelimit-*` headers on every response, and integer
`Retry-After` on 429s. Latency and faults are seeded and configurable.
"""

from __future__ import annotations

import asyncio
import math
import random

from aiohttp import web
from aiohttp.typedefs import Middleware

from frontscan.simulator import front_shapes as shapes
from frontscan.simulator.buckets import FixedWindowBucket, KeyedWindows, WindowDecision
from frontscan.simulator.front_events import EventLog
from frontscan.simulator.front_routes import (
    EVENTS,
    MAILBOX,
    OPTIONS,
    PAGE_RNG,
    FrontError,
    FrontOptions,
    routes,
)
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.stats import Handler, SimStats, stats_middleware, stats_route

__all__ = ["FrontOptions", "create_front_app"]
STATS = web.AppKey("stats", SimStats)


class _Limits:
    """The company, search and per-conversation buckets of one server."""

    def __init__(self, options: FrontOptions) -> None:
        self.company = FixedWindowBucket(options.rpm)
        self.search = FixedWindowBucket(max(1, math.floor(options.rpm * options.search_share)))
        self.tier2 = KeyedWindows(options.tier2_per_second, 1.0)


def required_scope(template: str) -> str | None:
    """The `x-required-scopes` of core-api.json for the routes the simulator serves."""
    if template.startswith("/events"):
        return "events:*:read"
    if template.startswith("/messages/") or template.endswith("/messages"):
        return "messages:read"
    if template.startswith("/conversations"):
        return "conversations:read"
    if template.startswith("/inboxes"):
        return "inboxes:read"
    return None  # /me needs none


def has_scope(granted: tuple[str, ...], required: str) -> bool:
    """`events:*:read` is a pattern: `*` stands for any namespace (shared, private, ...)."""
    wanted = required.split(":")
    for scope in granted:
        parts = scope.split(":")
        if len(parts) == len(wanted) and all(
            w == p or "*" in (w, p) for w, p in zip(wanted, parts, strict=True)
        ):
            return True
    return False


def _rate_headers(decision: WindowDecision) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(decision.limit),
        "x-ratelimit-remaining": str(decision.remaining),
        "x-ratelimit-reset": str(decision.reset_epoch),
    }


def _too_many(
    company: WindowDecision, wait: float, route: str | None, tier: int | None
) -> web.Response:
    millis = max(1, math.ceil(wait * 1000))
    scope = f" for {route}" if route else ""
    body = shapes.error(
        429,
        "Too many requests",
        f"Rate limit exceeded{scope}. Please retry in {millis} milliseconds.",
    )
    headers = _rate_headers(company)
    headers["Retry-After"] = str(max(1, math.ceil(wait)))
    if tier is not None:
        headers["x-front-tier"] = str(tier)
    return web.json_response(body, status=429, headers=headers)


def _front_middleware(options: FrontOptions, stats: SimStats) -> Middleware:
    limits = _Limits(options)
    rng = random.Random(options.seed)

    async def sleep_latency() -> None:
        if options.latency_ms > 0:
            sigma = options.latency_sigma
            mu = math.log(options.latency_ms / 1000) - sigma * sigma / 2
            await asyncio.sleep(rng.lognormvariate(mu, sigma))

    def admit(request: web.Request) -> web.Response | WindowDecision:
        """Spend from every bucket the route uses; refund the others if one refuses."""
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else ""
        if options.extra_429_rate and rng.random() < options.extra_429_rate:
            stats.rate_limited["injected"] += 1
            return _too_many(limits.company.peek(), rng.uniform(0.2, 1.0), "tier-2 route", 2)
        tier: WindowDecision | None = None
        if template == "/conversations/{conversation_id}/messages":
            tier = limits.tier2.take(request.match_info["conversation_id"])
            if not tier.allowed:
                stats.rate_limited["tier2"] += 1
                return _too_many(limits.company.peek(), tier.reset_after, "tier-2 route", 2)
        company = limits.company.take()
        if not company.allowed:
            if tier is not None:
                limits.tier2.refund(request.match_info["conversation_id"])
            stats.rate_limited["company"] += 1
            return _too_many(company, company.reset_after, None, None)
        if template.startswith("/conversations/search/"):
            search = limits.search.take()
            if not search.allowed:
                limits.company.refund()
                stats.rate_limited["search"] += 1
                return _too_many(limits.company.peek(), search.reset_after, "search route", None)
        return company

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            return await handler(request)
        if request.headers.get("Authorization", "") != f"Bearer {options.token}":
            body = shapes.error(401, "Unauthenticated", "JSON Web Token error")
            return web.json_response(body, status=401, headers=_rate_headers(limits.company.peek()))
        admitted = admit(request)
        if isinstance(admitted, web.Response):
            return admitted
        resource = request.match_info.route.resource
        scope = required_scope(resource.canonical if resource is not None else "")
        if scope is not None and not has_scope(options.scopes, scope):
            # [INF] Front's exact 403 wording for a missing scope is not documented.
            message = f"This API token is missing the required scope {scope}"
            body = shapes.error(403, "Forbidden", message)
            return web.json_response(body, status=403, headers=_rate_headers(admitted))
        await sleep_latency()
        if options.fault_rate and rng.random() < options.fault_rate:
            fault = rng.choice(("500", "502", "503", "reset", "slow"))
            stats.faults[fault] += 1
            if fault == "reset":
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)  # never delivered: the socket is gone
            if fault == "slow":
                await asyncio.sleep(options.slow_seconds)
            else:
                status = int(fault)
                title = {500: "Internal server error", 502: "Bad gateway"}.get(
                    status, "Service unavailable"
                )
                body = shapes.error(status, title, "The server encountered a temporary error.")
                return web.json_response(body, status=status, headers=_rate_headers(admitted))
        try:
            response = await handler(request)
        except FrontError as error:
            body = shapes.error(error.status, error.title, error.message)
            return web.json_response(body, status=error.status, headers=_rate_headers(admitted))
        except web.HTTPException as exc:
            if exc.status < 400:
                exc.headers.update(_rate_headers(admitted))
                raise
            title = "Not found" if exc.status == 404 else exc.reason
            body = shapes.error(exc.status, title, f"{request.method} {request.path}: {exc.reason}")
            return web.json_response(body, status=exc.status, headers=_rate_headers(admitted))
        response.headers.update(_rate_headers(admitted))
        return response

    return middleware


def create_front_app(
    mailbox: Mailbox, options: FrontOptions | None = None, stats: SimStats | None = None
) -> web.Application:
    """The aiohttp application; `stats` is shared with the caller when given."""
    options = options or FrontOptions()
    stats = stats if stats is not None else SimStats()
    app = web.Application(middlewares=[stats_middleware(stats), _front_middleware(options, stats)])
    app[MAILBOX] = mailbox
    app[EVENTS] = EventLog(mailbox)
    app[OPTIONS] = options
    app[PAGE_RNG] = random.Random(options.seed + 1)
    app[STATS] = stats
    app.router.add_get("/_sim/stats", stats_route(stats))
    app.router.add_routes(routes)
    return app
