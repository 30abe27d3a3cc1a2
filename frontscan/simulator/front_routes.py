"""The fake Front's route handlers: lists, search, single objects, pagination and merges.

Handlers only read the mailbox and shape JSON; authentication, rate limits, latency and
faults live in the server's middleware so every route gets them alike.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web

from frontscan.simulator import front_shapes as shapes
from frontscan.simulator.front_events import (
    EVENT_TYPES,
    MAX_LIMIT,
    EventFilter,
    EventLog,
    event_json,
)
from frontscan.simulator.front_search import (
    QueryError,
    after_key,
    decode_token,
    encode_token,
    parse_query,
)
from frontscan.simulator.mailbox import Mailbox

FULL_SCOPES = ("conversations:read", "messages:read", "inboxes:read", "events:*:read")


@dataclass(frozen=True, slots=True)
class FrontOptions:
    """Knobs of the fake Front. Rates are probabilities per request (0..1)."""

    token: str = "sim-front-token"
    rpm: int = 100
    search_share: float = 0.4
    tier2_per_second: int = 5
    latency_ms: float = 20.0
    latency_sigma: float = 0.5
    fault_rate: float = 0.0
    slow_seconds: float = 2.0
    short_page_rate: float = 0.0
    extra_429_rate: float = 0.0
    default_limit: int = 50
    seed: int = 0
    scopes: tuple[str, ...] = FULL_SCOPES  # what the token was granted
    event_body_drop_rate: float = 0.0  # share of event messages served without `body`


MAILBOX = web.AppKey("mailbox", Mailbox)
OPTIONS = web.AppKey("options", FrontOptions)
PAGE_RNG = web.AppKey("page_rng", random.Random)
EVENTS = web.AppKey("events", EventLog)
T = TypeVar("T")
routes = web.RouteTableDef()


class FrontError(Exception):
    """An error answer; the middleware renders it as Front's `_error` body."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def _bad_request(message: str) -> FrontError:
    return FrontError(400, "Bad request", message)


def _not_found(message: str) -> FrontError:
    return FrontError(404, "Not found", message)


def _base(request: web.Request) -> str:
    return str(request.url.origin())


def _limit(request: web.Request, maximum: int) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return min(maximum, request.app[OPTIONS].default_limit)
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise _bad_request(f"limit must be an integer between 1 and {maximum}")
    return int(raw)


def _order(request: web.Request, sort_field: str) -> bool:
    """True for descending (the default); 400 on anything Front would not accept."""
    sort_by = request.query.get("sort_by")
    if sort_by is not None and sort_by != sort_field:
        raise _bad_request(f"sort_by must be {sort_field}")
    order = request.query.get("sort_order", "desc")
    if order not in ("asc", "desc"):
        raise _bad_request("sort_order must be asc or desc")
    return order == "desc"


def _page(
    request: web.Request,
    kind: str,
    items: Sequence[T],
    key: Callable[[T], tuple[float, str]],
    descending: bool,
    maximum: int = 100,
) -> tuple[list[T], str | None]:
    """One page after the token's cursor, sometimes short; `next` is null on the last page."""
    limit = _limit(request, maximum)
    token = request.query.get("page_token")
    start = 0
    if token:
        try:
            cursor = decode_token(kind, token)
        except QueryError as error:
            raise _bad_request(str(error)) from None
        start = next(
            (i for i, item in enumerate(items) if after_key(key(item), cursor, descending)),
            len(items),
        )
    size = limit
    rng = request.app[PAGE_RNG]
    rate = request.app[OPTIONS].short_page_rate
    if limit > 1 and rate and rng.random() < rate:
        size = rng.randint(1, limit - 1)
    page = list(items[start : start + size])
    if start + size >= len(items) or not page:
        return page, None
    stamp, item_id = key(page[-1])
    # Pairs, not a dict: list filters such as q[types][] repeat their key.
    query = [(k, v) for k, v in request.query.items() if k not in ("page_token", "limit")]
    query += [("limit", str(limit)), ("page_token", encode_token(kind, stamp, item_id))]
    url = request.url.with_query(query)
    return page, f"{_base(request)}{url.raw_path_qs}"


def _envelope(request: web.Request, results: list[Any], next_url: str | None) -> dict[str, Any]:
    self_link = f"{_base(request)}{request.rel_url.raw_path_qs}"
    return {"_pagination": {"next": next_url}, "_links": {"self": self_link}, "_results": results}


@routes.get("/me")
async def me(request: web.Request) -> web.Response:
    return web.json_response(
        {"_links": {"self": f"{_base(request)}/me"}, "id": "cmp_k30", "name": "Acme Goods Inc."}
    )


@routes.get("/inboxes")
async def inboxes(request: web.Request) -> web.Response:
    base = _base(request)
    results = [shapes.inbox(base, box) for box in request.app[MAILBOX].inboxes]
    return web.json_response({"_links": {"self": f"{base}/inboxes"}, "_results": results})


@routes.get("/conversations")
async def list_conversations(request: web.Request) -> web.Response:
    descending = _order(request, "date")
    statuses = request.query.getall("q[statuses][]", [])
    items = request.app[MAILBOX].by_activity()
    if statuses:
        items = [c for c in items if c.status in statuses]
    if not descending:
        items = sorted(items, key=lambda c: (c.last_activity, c.id))
    page, next_url = _page(request, "cnv", items, lambda c: (c.last_activity, c.id), descending)
    base = _base(request)
    results = [shapes.conversation(base, c) for c in page]
    return web.json_response(_envelope(request, results, next_url))


@routes.get("/conversations/search/{query:.+}")
async def search(request: web.Request) -> web.Response:
    try:
        query = parse_query(request.match_info["query"])
    except QueryError as error:
        raise _bad_request(str(error)) from None
    mailbox = request.app[MAILBOX]
    items = [c for c in mailbox.by_activity() if query.matches(c, mailbox.haystack(c.id))]
    page, next_url = _page(request, "srch", items, lambda c: (c.last_activity, c.id), True)
    base = _base(request)
    body = _envelope(request, [shapes.conversation(base, c) for c in page], next_url)
    body["_total"] = len(items)
    return web.json_response(body)


def _conversation_or_redirect(request: web.Request, suffix: str) -> str:
    mailbox = request.app[MAILBOX]
    conversation_id = request.match_info["conversation_id"]
    if conversation_id in mailbox.merged_into:
        target = f"{_base(request)}/conversations/{mailbox.merged_into[conversation_id]}{suffix}"
        if request.query_string:
            target += f"?{request.query_string}"
        raise web.HTTPMovedPermanently(location=target)
    if conversation_id not in mailbox.conversations:
        raise _not_found(f"Unknown conversation ID {conversation_id}")
    return conversation_id


@routes.get("/conversations/{conversation_id}")
async def get_conversation(request: web.Request) -> web.Response:
    conversation_id = _conversation_or_redirect(request, "")
    conv = request.app[MAILBOX].conversations[conversation_id]
    return web.json_response(shapes.conversation(_base(request), conv))


@routes.get("/conversations/{conversation_id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    conversation_id = _conversation_or_redirect(request, "/messages")
    descending = _order(request, "created_at")
    conv = request.app[MAILBOX].conversations[conversation_id]
    items = list(reversed(conv.messages)) if descending else list(conv.messages)
    page, next_url = _page(request, "msg", items, lambda m: (m.created_at, m.id), descending)
    base = _base(request)
    return web.json_response(_envelope(request, [shapes.message(base, m) for m in page], next_url))


@routes.get("/messages/{message_id}")
async def get_message(request: web.Request) -> web.Response:
    message_id = request.match_info["message_id"]
    found = request.app[MAILBOX].message(message_id)
    if found is None:
        raise _not_found(f"Unknown message ID {message_id}")
    return web.json_response(shapes.message(_base(request), found))


def _event_filter(request: web.Request) -> EventFilter:
    """`q` in bracket form; list filters take `q[types][]=a&q[types][]=b` (or `q[types]=a`)."""
    query = request.query

    def listed(name: str) -> frozenset[str]:
        return frozenset(query.getall(f"q[{name}][]", []) + query.getall(f"q[{name}]", []))

    def stamp(name: str) -> float | None:
        raw = query.get(f"q[{name}]")
        if raw is None:
            return None
        try:
            return float(raw)
        except ValueError as error:
            raise _bad_request(f"q[{name}] must be a timestamp in seconds") from error

    types = listed("types")
    unknown = sorted(types - EVENT_TYPES)
    if unknown:
        raise _bad_request(f"Unknown event type: {unknown[0]}")
    return EventFilter(types, stamp("after"), stamp("before"), listed("inboxes"))


@routes.get("/events")
async def list_events(request: web.Request) -> web.Response:
    """Newest first unless `sort_order=asc`; at most 15 a page; no `_total`."""
    descending = _order(request, "created_at")
    mailbox = request.app[MAILBOX]
    items = _event_filter(request).select(request.app[EVENTS].events(), mailbox)
    if descending:
        items = items[::-1]
    page, next_url = _page(request, "evt", items, lambda e: e.key, descending, MAX_LIMIT)
    base = _base(request)
    options = request.app[OPTIONS]
    results = [
        event_json(base, e, mailbox, body_drop_rate=options.event_body_drop_rate, seed=options.seed)
        for e in page
    ]
    return web.json_response(_envelope(request, results, next_url))
