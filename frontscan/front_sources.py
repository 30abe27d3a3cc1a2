"""The two Front sources behind the pipeline's `Source` seam, and the choice between them.

`search` finds conversations with activity in a window and lists each one's new messages
(about one Front call per conversation); `events` reads the message event stream (about
one call per 15 messages, `front_events.py`). `auto` uses events when the token has the
scope and event messages carry bodies, which the scan's own first events page shows, so
deciding costs no call; otherwise search, with a one-line note saying why.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from frontscan.errors import MissingScopeError, UsageError
from frontscan.front import FrontClient, search_query
from frontscan.front_events import EventsSource, KnownMessages
from frontscan.models import (
    ConversationMessages,
    ScanRequest,
    SearchPage,
    SourceMode,
    Window,
)
from frontscan.ports import Source

logger = logging.getLogger(__name__)


class WindowSearch:
    """Adapts the Front client to the pipeline's `Source`: a window plus fixed filters."""

    def __init__(self, client: FrontClient, inbox: str | None, text: str | None) -> None:
        self._client = client
        self._inbox = inbox
        self._text = text

    def search(self, window: Window) -> AsyncIterator[SearchPage]:
        query = search_query(window.after, window.before, self._inbox, self._text)
        return self._client.search(query)

    async def messages_since(
        self, conversation_id: str, since: float | None
    ) -> ConversationMessages:
        return await self._client.messages_since(conversation_id, since)


@dataclass(frozen=True, slots=True, kw_only=True)
class Chosen:
    source: Source
    name: SourceMode  # "events" or "search"
    note: str | None  # why not events, when the operator should know
    events: EventsSource | None = None


async def choose_source(
    wanted: SourceMode,
    request: ScanRequest,
    front: FrontClient,
    ledger: KnownMessages,
    window: Window,
) -> Chosen:
    """Events when asked, or under `auto` when they work here; else search.

    `--query` needs Front's search syntax and `--retry-failed` reads known conversations,
    so both use search whatever the setting. An explicit `events` without the scope is an
    error; with bodiless events it still runs, each conversation from its message list.
    """
    search = WindowSearch(front, request.inbox, request.query)
    if request.query and wanted == "events":
        raise UsageError("--query needs Front search: use --source search or auto")
    if wanted == "search" or request.query or request.retry_failed:
        return _chosen(Chosen(source=search, name="search", note=None))
    events = EventsSource(front, ledger, inbox=request.inbox, rescan=request.rescan)
    try:
        why_not = await events.probe(window)
    except MissingScopeError as error:
        if wanted == "events":
            raise
        note = (
            f"using search: the Front token lacks the {error.scope} scope (add it to read "
            "the event stream, about 1 Front call per 15 messages instead of 1 per "
            "conversation)"
        )
        return _chosen(Chosen(source=search, name="search", note=note))
    if why_not is not None and wanted == "auto":
        return _chosen(Chosen(source=search, name="search", note=f"using search: {why_not}"))
    return _chosen(Chosen(source=events, name="events", note=None, events=events))


def _chosen(chosen: Chosen) -> Chosen:
    logger.info(
        "reading Front through %s", chosen.name,
        extra={"event": "front.source", "source": chosen.name, "why": chosen.note or ""},
    )  # fmt: skip
    return chosen


def events_line(source: EventsSource) -> str:
    """What the event source did, for the operator: all counted from what Front sent."""
    used = source.counters
    return (
        f"event stream: {used.pages} pages, {used.message_events} message events, "
        f"{used.known} already recorded, {used.groups} conversations, "
        f"{used.fallbacks} read from the message list (events without body), "
        f"{used.histories} read whole (new to the ledger, begun before the window)"
    )
