"""The Front Core API client: search windows, conversation messages, errors, budgets.

This is the only module that imports aiohttp; every aiohttp failure and every non-2xx
answer becomes a `FrontscanError` here, naming method, path and status, never the token.
Every request first takes its share of the Front budget (`FrontBudgets`), teaches the
budget from the `x-ratelimit-*` headers, and on 429 pauses it for the stated delay.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import quote

import aiohttp
from yarl import URL

from frontscan.errors import (
    AuthError,
    FrontscanError,
    ItemError,
    MissingScopeError,
    TransientError,
)
from frontscan.front_types import (
    ConversationPayload,
    ConversationSearchPage,
    Envelope,
    ErrorBody,
    IdentityPayload,
    MessagePage,
    MessagePayload,
)
from frontscan.limits.bound import ApiCounters, ApiUsage
from frontscan.limits.budgets import FRONT_SEARCH_SHARE, FrontBudgets
from frontscan.limits.retry import header_float, lower_headers, with_retries
from frontscan.listing import Listing
from frontscan.models import ConversationMessages, ConversationRef, Message, SearchPage

PAGE_LIMIT = 100
EVENT_PAGE_LIMIT = 15  # list-events: "max 15"
# Event types whose target is a message (core-api.json EventResponse, front-api.md §9).
MESSAGE_EVENT_TYPES = (
    "inbound",
    "outbound",
    "out_reply",
    "forward",
    "sending_error",
    "message_bounce_error",
)
EVENTS_SCOPE = "events:*:read"
logger = logging.getLogger(__name__)


def _log_retry(error: TransientError, delay: float) -> None:
    logger.info(
        "retrying in %.2f s: %s", delay, error,
        extra={"event": "front.retry", "delay": round(delay, 3), "cause": str(error)},
    )  # fmt: skip


def search_query(
    after: float | None, before: float | None, inbox: str | None, text: str | None
) -> str:
    """Front search syntax: `after:`/`before:` take integer Unix seconds; filters are ANDed."""
    parts = []
    if after is not None:
        parts.append(f"after:{int(after)}")
    if before is not None:
        parts.append(f"before:{int(before)}")
    if inbox:
        parts.append(f"inbox:{inbox}")
    if text:
        parts.append(text)
    return " ".join(parts)


def parse_conversation(raw: ConversationPayload) -> ConversationRef:
    """A search result. `last_message` is only a link whose last segment is the message id."""
    links = raw.get("_links") or {}
    last_link = (links.get("related") or {}).get("last_message")
    last_id = None
    if isinstance(last_link, str) and last_link:
        last_id = URL(last_link).path.rstrip("/").rsplit("/", 1)[-1] or None
    updated = raw.get("updated_at")
    return ConversationRef(
        id=str(raw["id"]),
        subject=str(raw.get("subject") or ""),
        last_message_id=last_id,
        updated_at=float(updated) if isinstance(updated, int | float) else None,
    )


def parse_message(raw: MessagePayload, conversation_id: str) -> Message:
    text = raw.get("text")
    return Message(
        id=str(raw["id"]),
        conversation_id=conversation_id,
        created_at=float(raw.get("created_at") or 0.0),
        type=str(raw.get("type") or "email"),
        is_inbound=bool(raw.get("is_inbound")),
        subject=str(raw.get("subject") or ""),
        body=str(raw.get("body") or ""),
        text=text if isinstance(text, str) else None,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RateHeaders:
    """The company budget as the last Front response stated it (None where not sent)."""

    limit: float | None
    remaining: float | None
    reset: float | None  # epoch seconds


def rate_headers(headers: Mapping[str, str]) -> RateHeaders | None:
    lowered = lower_headers(headers)
    limit = header_float(lowered, "x-ratelimit-limit")
    remaining = header_float(lowered, "x-ratelimit-remaining")
    if limit is None and remaining is None:
        return None
    return RateHeaders(
        limit=limit, remaining=remaining, reset=header_float(lowered, "x-ratelimit-reset")
    )


def _error_detail(body: str) -> str:
    """Front's `_error.message`, tolerating bodies without status/title or not JSON at all."""
    try:
        payload = json.loads(body)
    except ValueError:
        return ""
    error = cast(ErrorBody, payload).get("_error") if isinstance(payload, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:200]
    return ""


class FrontClient:
    """Front API calls frontscan makes, each paced by the shared budgets and retried."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        budgets: FrontBudgets,
        *,
        attempts: int = 6,
        check_totals: bool = True,
    ) -> None:
        self._session = session
        self._base = URL(base_url.rstrip("/"))
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.budgets = budgets
        self._attempts = attempts
        self._check_totals = check_totals  # `front.check_search_total`
        self.counters = ApiCounters()
        self.rate: RateHeaders | None = None  # from the latest response that carried it
        self.untrusted: list[str] = []  # listings that ended short (`listing.Listing`)

    def usage(self) -> ApiUsage:
        """What this client has spent so far, and the rate limit it ran under."""
        return self.counters.usage(
            requests_per_minute=self.budgets.limit or self.budgets.company.per_minute,
            search_calls=self.budgets.search.stats.calls,
            search_share=FRONT_SEARCH_SHARE,
        )

    async def check_auth(self) -> str:
        """`GET /me`: a cheap probe that fails fast on a bad token and teaches the budget."""
        raw, _ = await self._get(self._base / "me", "other")
        payload = cast(IdentityPayload, raw)
        return str(payload.get("name") or payload.get("id") or "")

    async def search(self, query: str) -> AsyncIterator[SearchPage]:
        """All conversations matching `query`, newest activity first, following `next`.

        Each conversation is handed on once, however often pages repeat it; a next link
        already followed ends the listing. A listing that ends short of the first page's
        `_total`, and of the total counted again then (one more call), or at a loop with
        no total, goes into `untrusted`: the runner then keeps the cron watermark where
        it was, so the next run lists the window again.
        """
        first = URL(f"{self._base}/conversations/search/{quote(query, safe='')}", encoded=True)
        url: URL | None = first.with_query(limit=PAGE_LIMIT)
        listing = Listing(f"search {query!r}", str(url))
        while url is not None:
            raw, _ = await self._get(url, "search")
            payload = cast(ConversationSearchPage, raw)
            total = payload.get("_total")
            refs = listing.page(
                (parse_conversation(r) for r in payload.get("_results") or []),
                key=lambda ref: ref.id,
                total=total,
            )
            logger.debug(
                "search page: %d conversations", len(refs),
                extra={"event": "front.page", "conversations": len(refs), "total": total},
            )  # fmt: skip
            yield SearchPage(tuple(refs), int(total) if isinstance(total, int) else None)
            following = _next_url(payload)
            url = following if listing.follow(_text(following)) else None
        if listing.short and self._check_totals:  # one more call: did matches leave?
            counted, _ = await self._get(first.with_query(limit=1), "search")
            listing.recounted(counted.get("_total"))
        if (problem := listing.problem(use_total=self._check_totals)) is not None:
            self.untrusted.append(problem)
            logger.warning(
                "Front's listing is incomplete: %s", problem,
                extra={"event": "front.listing_incomplete", "cause": problem},
            )  # fmt: skip

    async def messages_since(
        self, conversation_id: str, since: float | None
    ) -> ConversationMessages:
        """Messages newer than `since`, listed newest first; stops paging at the watermark."""
        url: URL | None = (self._base / "conversations" / conversation_id / "messages").with_query(
            limit=PAGE_LIMIT
        )
        found: list[Message] = []
        merged_into = None
        listing = Listing(f"messages of {conversation_id}", str(url))
        while url is not None:
            raw_page, final_url = await self._get(url, "other")
            payload = cast(MessagePage, raw_page)
            owner = _conversation_in(final_url)
            if owner and owner != conversation_id:
                merged_into = owner
            reached_watermark = False
            results = [r for r in payload.get("_results") or [] if not r.get("is_draft")]
            for raw in listing.page(results, key=lambda r: str(r.get("id"))):
                message = parse_message(raw, owner or conversation_id)
                if since is not None and message.created_at <= since:
                    reached_watermark = True
                    break
                found.append(message)
            following = None if reached_watermark else _next_url(payload)
            url = following if listing.follow(_text(following)) else None
            if listing.looped:  # what lies past the loop was never read: try again later
                raise TransientError(f"Front GET {final_url.path}: the next link looped")
        listing.problem()  # logs repeats; a message list has no total to fall short of
        return ConversationMessages(tuple(found), merged_into)

    def events_url(
        self,
        after: float | None,
        before: float | None,
        inbox: str | None,
        *,
        ascending: bool = True,
        limit: int = EVENT_PAGE_LIMIT,
    ) -> URL:
        """`GET /events` for message events in a window, in bracket form (`q[types][]=...`).

        Ascending by time, so a conversation's messages arrive oldest first and its group
        can be closed when its last message shows up.
        """
        query: list[tuple[str, str]] = [("q[types][]", kind) for kind in MESSAGE_EVENT_TYPES]
        if after is not None:
            query.append(("q[after]", f"{after:.3f}"))
        if before is not None:
            query.append(("q[before]", f"{before:.3f}"))
        if inbox:
            query.append(("q[inboxes][]", inbox))
        query += [("sort_by", "created_at"), ("sort_order", "asc" if ascending else "desc")]
        query.append(("limit", str(limit)))
        return (self._base / "events").with_query(query)

    async def events_page(self, url: URL) -> tuple[list[dict[str, Any]], URL | None]:
        """One page of events and the `next` URL (a 403 raises `MissingScopeError`)."""
        payload, _ = await self._get(url, "other")
        results = [r for r in payload.get("_results") or [] if isinstance(r, dict)]
        return results, _next_url(cast(Envelope, payload))

    async def _get(self, url: URL, kind: Literal["search", "other"]) -> tuple[dict[str, Any], URL]:
        return await with_retries(
            lambda: self._get_once(url, kind), attempts=self._attempts, on_retry=_log_retry
        )

    async def _get_once(
        self, url: URL, kind: Literal["search", "other"]
    ) -> tuple[dict[str, Any], URL]:
        self.counters.throttled_seconds += await self.budgets.acquire_call(kind)
        self.counters.calls += 1
        where = f"Front GET {url.path}"
        sent = time.monotonic()
        try:
            async with self._session.get(url, headers=self._headers) as response:
                body = await response.text()
                self.counters.http_seconds += time.monotonic() - sent
                self.budgets.observe(response.headers, kind=kind, admitted=response.status != 429)
                if kind == "other":
                    self.rate = rate_headers(response.headers) or self.rate
                if response.status == 429:
                    self.counters.rate_limited += 1
                    delay = self.budgets.on_429(response.headers, body, kind=kind)
                    raise TransientError(f"{where}: 429 rate limited", retry_after=delay)
                if response.status >= 400:
                    raise _status_error(where, response.status, body)
                payload = json.loads(body)
                if not isinstance(payload, dict):  # `null`, a list: no envelope, no `next`
                    raise TransientError(f"{where}: the answer was not a JSON object")
                return payload, response.url
        except FrontscanError:
            raise
        except (TimeoutError, aiohttp.ClientError) as error:
            # Chained: aiohttp's text names host, port and path; the token is only in the
            # request headers, which neither its str() nor a traceback prints.
            message = f"{where}: {type(error).__name__} {error}".strip()
            raise TransientError(message, outage="front") from error
        except ValueError as error:
            raise TransientError(f"{where}: the answer was not JSON") from error


def _status_error(where: str, status: int, body: str) -> FrontscanError:
    detail = _error_detail(body)
    message = f"{where}: {status}" + (f" {detail}" if detail else "")
    if status == 403 and where.endswith(" /events"):
        return MissingScopeError(
            f"{message}. The API token lacks the {EVENTS_SCOPE} scope: add it "
            "(Settings > Developers > API tokens) to read the event stream",
            EVENTS_SCOPE,
        )
    if status in (401, 403):
        return AuthError(
            f"{message}. Front rejected FRONT_API_TOKEN: create an API token with the "
            "conversations:read and messages:read scopes (Settings > Developers > API tokens)"
        )
    if status >= 500 or status in (408, 423):
        return TransientError(message, outage="front" if status >= 500 else None)
    return ItemError(message)


def _next_url(payload: Envelope) -> URL | None:
    pagination = payload.get("_pagination") or {}
    following = pagination.get("next") if isinstance(pagination, dict) else None
    return URL(following, encoded=True) if isinstance(following, str) and following else None


def _text(url: URL | None) -> str | None:
    return None if url is None else str(url)


def _conversation_in(url: URL) -> str | None:
    parts = url.path.split("/")
    if "conversations" in parts:
        index = parts.index("conversations")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None
