"""A fault-injecting HTTP proxy on loopback, between frontscan and the simulator.

The simulator's own faults are random and well-formed (a 429 with its headers, a 5xx with
an `_error` body, a short page). What a proxy, a load balancer or a dying server does to
the bytes is not: a 429 with `Retry-After: 30` or none at all, a request accepted and
never answered, a body cut off before its `Content-Length`, an HTML 502 page, an empty
200, a Front page whose `_pagination.next` loops, overlaps or skips. `FaultProxy` passes
every request through to its upstream (rewriting the upstream's absolute URLs in
answers to its own, so `_pagination.next` comes back through it) except those a `Rule`
picks, which get the rule's fault. Everything it did is in `seen`, for the assertions.

Hangs wait on an event the proxy sets when it closes, so a test never leaves a handler
sleeping (and is bounded by `HANG_LIMIT` in any case).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web
from yarl import URL

from frontscan.simulator.runtime import serving

HANG_LIMIT = 60.0  # no handler outlives this, whatever the test does
Fault = Literal[
    "429",  # a rate-limit answer in the API's own shape, `retry_after` as the header
    "hang",  # accept the request, never answer
    "stall",  # send the headers and half the body, then nothing
    "truncate",  # Content-Length larger than what is sent, then close
    "cut_json",  # a chunked body closed mid-JSON
    "html502",  # a proxy's HTML error page
    "empty200",  # 200 with an empty body
    "repeat_page",  # a page whose `next` serves it again (a new link, the same results)
    "loop_page",  # a page whose `next` is its own link
    "overlap",  # a page that starts with the previous page's last results
    "drop_next",  # a page whose `next` is gone (null) although there is more
    "skip_ahead",  # a page whose `next` skips the following page
]
# Response headers that describe the upstream's framing, not the content.
_HOP = {"content-length", "transfer-encoding", "content-encoding", "connection", "keep-alive"}


@dataclass
class Rule:
    """Give `fault` to requests whose path contains `path`: after `skip` of them passed
    through, the next `times` (None: all the rest)."""

    fault: Fault
    path: str
    times: int | None = 1
    skip: int = 0
    retry_after: str | None = None  # "429" only; None sends no Retry-After at all
    matched: int = 0
    fired: int = 0

    def picks(self, path: str) -> bool:
        if self.path not in path:
            return False
        self.matched += 1
        if self.matched <= self.skip or (self.times is not None and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@dataclass(frozen=True)
class Seen:
    method: str
    path: str  # path and query, as sent
    fault: Fault | None
    at: float  # time.monotonic()


@dataclass
class FaultProxy:
    upstream: str  # scheme://host:port, no path
    rules: list[Rule] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""  # its own base, once serving
    page_limit: int | None = None  # asks Front for pages this small (front-api.md §1:
    # "fewer results than the requested limit" is allowed), so a small mailbox has pages
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    _session: aiohttp.ClientSession | None = None
    _previous: dict[str, list[Any]] = field(default_factory=dict)  # last results per path

    def count(self, part: str, fault: Fault | Literal["any"] | None = "any") -> int:
        """Requests whose path contains `part` (only those given `fault`, unless "any")."""
        return sum(1 for s in self.seen if part in s.path and (fault == "any" or s.fault == fault))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path
        rule = next((r for r in self.rules if r.picks(path)), None)
        fault = rule.fault if rule else None
        self.seen.append(Seen(request.method, path, fault, time.monotonic()))
        if rule is not None and fault in ("429", "hang", "html502", "empty200"):
            return await self._instead(request, rule)
        status, headers, body = await self._forward(request)
        if rule is not None and fault in ("stall", "truncate", "cut_json"):
            return await self._broken(request, rule, status, headers, body)
        original = body
        if rule is not None:
            body = await self._page_fault(request, rule, body)
        if status == 200 and request.method == "GET":
            self._remember(path, original)
        return web.Response(status=status, headers=headers, body=body)

    # -- passing through ----------------------------------------------------------------

    async def _forward(self, request: web.Request) -> tuple[int, dict[str, str], bytes]:
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host",)}
        headers.pop("Content-Length", None)
        path = request.raw_path
        if self.page_limit is not None and "/conversations/search/" in path:
            path = re.sub(r"\blimit=\d+", f"limit={self.page_limit}", path)
        async with self._session.request(
            request.method,
            URL(self.upstream + path, encoded=True),
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            raw = await answer.read()
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            if "Location" in kept:
                kept["Location"] = kept["Location"].replace(self.upstream, self.url)
            return answer.status, kept, raw.replace(self.upstream.encode(), self.url.encode())

    def _remember(self, path: str, body: bytes) -> None:
        page = _json(body)
        if isinstance(page, dict) and isinstance(page.get("_results"), list):
            self._previous[URL(path).path] = page["_results"]

    # -- faults -------------------------------------------------------------------------

    async def _instead(self, request: web.Request, rule: Rule) -> web.StreamResponse:
        if rule.fault == "hang":
            with suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), HANG_LIMIT)
            return web.Response(status=503)
        if rule.fault == "html502":
            page = "<html><head><title>502 Bad Gateway</title></head><body><center>"
            page += "<h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
            return web.Response(status=502, text=page, content_type="text/html")
        if rule.fault == "empty200":
            return web.Response(status=200, body=b"", content_type="application/json")
        headers = {} if rule.retry_after is None else {"Retry-After": rule.retry_after}
        if "/v1/" in request.path:
            error = {
                "message": "Rate limit reached for requests. Visit "
                "https://platform.openai.com/account/rate-limits to learn more.",
                "type": "requests",
                "param": None,
                "code": "rate_limit_exceeded",
            }
            return web.json_response({"error": error}, status=429, headers=headers)
        front = {"status": 429, "title": "Too many requests", "message": "Rate limit exceeded."}
        return web.json_response({"_error": front}, status=429, headers=headers)

    async def _broken(
        self, request: web.Request, rule: Rule, status: int, headers: dict[str, str], body: bytes
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=status, headers=headers)
        if rule.fault == "cut_json":
            response.enable_chunked_encoding()
        else:
            response.content_length = len(body) + (0 if rule.fault == "stall" else 512)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        if rule.fault == "stall":
            with suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), HANG_LIMIT)
        transport = request.transport
        if transport is not None:
            transport.close()  # mid-body: the client sees the connection end early
        return response

    async def _page_fault(self, request: web.Request, rule: Rule, body: bytes) -> bytes:
        page = _json(body)
        if not isinstance(page, dict) or not isinstance(page.get("_pagination"), dict):
            return body
        pagination = page["_pagination"]
        following = pagination.get("next")
        here = page.get("_links", {}).get("self")
        if rule.fault == "loop_page":
            pagination["next"] = here
        elif rule.fault == "repeat_page" and isinstance(here, str):
            pagination["next"] = f"{here}&again={rule.fired}"  # ignored by the server
        elif rule.fault == "drop_next":
            pagination["next"] = None
        elif rule.fault == "overlap":
            before = self._previous.get(URL(page.get("_links", {}).get("self", "")).path, [])
            page["_results"] = before[-3:] + page["_results"]
        elif rule.fault == "skip_ahead" and isinstance(following, str):
            assert self._session is not None
            upstream = following.replace(self.url, self.upstream)
            auth = {"Authorization": request.headers.get("Authorization", "")}
            async with self._session.get(URL(upstream, encoded=True), headers=auth) as skipped:
                skipped_page = await skipped.json()
            pagination["next"] = (skipped_page.get("_pagination") or {}).get("next")
            if isinstance(pagination["next"], str):
                pagination["next"] = pagination["next"].replace(self.upstream, self.url)
        return json.dumps(page).encode()


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


@asynccontextmanager
async def fault_proxy(
    upstream: str, *rules: Rule, page_limit: int | None = None
) -> AsyncIterator[FaultProxy]:
    """A proxy for `upstream` (its scheme://host:port; a path on it is kept on ours)."""
    base = URL(upstream)
    root = str(base.origin())
    proxy = FaultProxy(upstream=root, rules=list(rules), page_limit=page_limit)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    async with aiohttp.ClientSession(auto_decompress=True) as session:
        proxy._session = session
        async with serving(app) as url:
            proxy.url = url
            try:
                yield proxy
            finally:
                proxy.closing.set()  # before the server stops: it waits for its handlers


def proxied(proxy: FaultProxy, upstream: str) -> str:
    """`upstream` (a URL with a path, like the simulator's `/v1`) through `proxy`."""
    return upstream.replace(proxy.upstream, proxy.url)
