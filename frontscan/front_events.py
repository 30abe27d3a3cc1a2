"""The event-stream source: Front's message events, grouped into conversations.

One `GET /events` call returns up to 15 message events, each with the whole message
(`target.data`) and its conversation. Reading a window this way costs about
messages / 15 calls instead of one message-list call per conversation plus search
pages (front-api.md §9), and the pipeline's step "list the new messages" costs nothing.

Grouping (`frontscan.event_groups`) streams: a conversation is handed on as soon as its
last message has been seen, with bounded memory. A message the ledger already holds is
dropped before grouping (one query per page), so a re-run after a crash redoes nothing,
and an older window scanned after a newer one still gets its messages (a watermark
alone would hide them). A message whose event carries no usable `body` sends its
conversation to the message list instead, counted.

No aiohttp here: the HTTP calls, their budgets and errors are `FrontClient`'s.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from yarl import URL

from frontscan.event_groups import (
    DEFAULT_MAX_HELD,
    Group,
    Grouper,
    MessageEvent,
    parse_event,
    usable_body,
)
from frontscan.front import FrontClient
from frontscan.listing import Listing
from frontscan.models import ConversationMessages, ConversationRef, SearchPage, Window

logger = logging.getLogger(__name__)


class KnownMessages(Protocol):
    async def known_messages(self, ids: Sequence[str]) -> set[str]: ...


@dataclass(slots=True)
class EventCounters:
    """What the event source did, for the summary: all from what Front sent."""

    pages: int = 0
    message_events: int = 0
    known: int = 0  # message events dropped because the ledger has the message
    groups: int = 0
    fallbacks: int = 0  # conversations read from the message list (events without body)
    histories: int = 0  # new to the ledger and older than the window: read whole, as search
    evicted: int = 0


class EventsSource:
    """The pipeline's `Source` over the event stream, falling back to the message list."""

    def __init__(
        self,
        client: FrontClient,
        ledger: KnownMessages,
        *,
        inbox: str | None = None,
        rescan: bool = False,
        max_held: int = DEFAULT_MAX_HELD,
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._inbox = inbox
        self._rescan = rescan
        self._max_held = max_held
        self._held: dict[str, Group] = {}
        self._after: float | None = None
        self._first: tuple[Window, list[dict[str, Any]], URL | None] = (Window(), [], None)
        self._probed = False
        self.counters = EventCounters()

    async def probe(self, window: Window) -> str | None:
        """Read the window's first page (kept for the scan); None, or why events won't do.

        Raises `MissingScopeError` when the token cannot read events. "No bodies" means
        the page has message events and none of them carries a usable body.
        """
        url = self._client.events_url(window.after, window.before, self._inbox)
        results, following = await self._client.events_page(url)
        self._first, self._probed = (window, results, following), True
        messages = [
            r["target"]["data"]
            for r in results
            if isinstance(r.get("target"), dict)
            and (r["target"].get("_meta") or {}).get("type") == "message"
            and isinstance(r["target"].get("data"), dict)
        ]
        if messages and not any(usable_body(data) for data in messages):
            return "this account's event messages carry no body"
        return None

    async def search(self, window: Window) -> AsyncIterator[SearchPage]:
        """Conversations with new messages in the window, as pages of refs."""
        self._after = window.after
        grouper = Grouper(self._max_held)
        async for raw_page in self._pages(window):
            events = [e for e in (parse_event(r) for r in raw_page) if e is not None]
            self.counters.pages += 1
            self.counters.message_events += len(events)
            fresh = await self._unknown(events)
            closed = [group for event in fresh for group in grouper.add(event)]
            logger.debug(
                "events page: %d message events, %d new, %d conversations handed on",
                len(events), len(fresh), len(closed),
                extra={"event": "events.page", "message_events": len(events),
                       "new": len(fresh), "handed_on": len(closed), "held": grouper.held},
            )  # fmt: skip
            if closed:
                yield self._publish(closed)
        self.counters.evicted += grouper.evicted
        rest = grouper.finish()
        if rest:
            yield self._publish(rest)

    async def messages_since(
        self, conversation_id: str, since: float | None
    ) -> ConversationMessages:
        """The held group's messages (no call), or the message list when bodies are missing.

        `since` is not applied to a held group: its messages were already checked against
        the ledger one by one. A conversation the ledger has never seen (`since` None)
        that started before the window may have older messages, which search would have
        read: it is read whole from the message list, so both sources record the same.
        Conversations not from the stream (`--retry-failed`) use the message list too.
        """
        group = self._held.pop(conversation_id, None)
        if group is None:
            return await self._client.messages_since(conversation_id, since)
        after = self._after
        if since is None and after is not None and (group.started or after) < after:
            self.counters.histories += 1
            logger.debug(
                "%s began before the window: reading it whole", conversation_id,
                extra={"event": "events.history", "conversation": conversation_id},
            )  # fmt: skip
            return await self._client.messages_since(conversation_id, None)
        if not group.bodiless:
            return ConversationMessages(tuple(reversed(group.messages)))
        self.counters.fallbacks += 1
        logger.info(
            "%s: %d event messages without body: reading its message list",
            conversation_id, len(group.bodiless),
            extra={"event": "events.fallback", "conversation": conversation_id,
                   "bodiless": len(group.bodiless)},
        )  # fmt: skip
        wanted = set(group.message_ids)
        oldest = min([m.created_at for m in group.messages] + [t for _, t in group.bodiless])
        listed = await self._client.messages_since(conversation_id, oldest - 0.001)
        if listed.merged_into is not None:
            return listed
        return ConversationMessages(tuple(m for m in listed.messages if m.id in wanted))

    async def _pages(self, window: Window) -> AsyncIterator[list[dict[str, Any]]]:
        """The window's event pages, each event once; a looping next link ends the
        stream, and the client's `untrusted` says so (the watermark then stays put)."""
        first = self._client.events_url(window.after, window.before, self._inbox)
        listing = Listing("event stream", str(first))
        probed, results, following = self._first
        if self._probed and probed == window:
            self._probed = False
        else:
            results, following = await self._client.events_page(first)
        while True:
            yield listing.page(results, key=_event_id)
            if following is None or not listing.follow(str(following)):
                break
            results, following = await self._client.events_page(following)
        if (problem := listing.problem()) is not None:
            self._client.untrusted.append(problem)

    async def _unknown(self, events: list[MessageEvent]) -> list[MessageEvent]:
        if self._rescan or not events:
            return events
        known = await self._ledger.known_messages([e.message_id for e in events])
        self.counters.known += len(known)
        return [e for e in events if e.message_id not in known]

    def _publish(self, groups: list[Group]) -> SearchPage:
        """Hold the groups' messages for `messages_since`; refs for the pipeline.

        A conversation whose earlier group is still waiting gets one group, not two.
        """
        refs: list[ConversationRef] = []
        for group in groups:
            key = group.conversation.id
            earlier = self._held.get(key)
            self.counters.groups += earlier is None
            self._held[key] = earlier.merged(group) if earlier else group
            if earlier is None:
                refs.append(group.conversation)
        return SearchPage(tuple(refs), None)


def _event_id(raw: dict[str, Any]) -> str:
    """An event's `evt_` id (its whole text if it has none: never merged with another)."""
    ident = raw.get("id")
    return str(ident) if ident else str(raw)
