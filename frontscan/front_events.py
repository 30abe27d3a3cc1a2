"""The event-stream source: Front's message events, grouped into conversations.

One `GET /events` call returns up to 15 message events, each with the whole message
(`target.data`) and its conversation. Reading a window this way costs about
messages / 15 calls instead of one message-list call per conversation plus search
pages (front-api.md §9), and the pipeline's step "list the new messages" costs nothing.

Grouping streams: events come oldest first, and a conversation's group is handed on as
soon as its last message arrives (the event's conversation links its `last_message`),
when the stream ends, or, if more than `max_held` messages are waiting, when it is the
least recently active group (so memory stays bounded whatever the window). A message
the ledger already holds is dropped before grouping (one query per page), so a re-run
after a crash redoes nothing, and an older window scanned after a newer one still gets
its messages (a watermark alone would hide them). A message whose event carries no
usable `body` sends its conversation to the message list instead, counted.

No aiohttp here: the HTTP calls, their budgets and errors are `FrontClient`'s.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, cast

from yarl import URL

from frontscan.front import FrontClient, parse_conversation, parse_message
from frontscan.front_types import ConversationPayload, MessagePayload
from frontscan.models import ConversationMessages, ConversationRef, Message, SearchPage

logger = logging.getLogger(__name__)
DEFAULT_MAX_HELD = 5_000  # messages waiting in open groups (bodies capped by the cleaner)


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEvent:
    """A message event as grouping needs it. `message` is None when the body is unusable."""

    conversation: ConversationRef
    message_id: str
    created_at: float
    message: Message | None
    last_of_conversation: bool
    conversation_started: float | None = None  # the conversation's `created_at`


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """New messages of one conversation from the stream, oldest first.

    `bodiless` are (id, created_at) of messages whose event had no usable body: the
    conversation's message list supplies them. `closed_by` says why the group ended:
    its last message was seen, the stream ended, or memory was short ("evicted").
    """

    conversation: ConversationRef
    messages: tuple[Message, ...]
    bodiless: tuple[tuple[str, float], ...] = ()
    closed_by: Literal["last", "end", "evicted"] = "end"
    started: float | None = None  # the conversation's `created_at`, when Front sent it

    @property
    def message_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.messages) + tuple(i for i, _ in self.bodiless)

    def merged(self, later: Group) -> Group:
        return Group(
            conversation=later.conversation,
            messages=self.messages + later.messages,
            bodiless=self.bodiless + later.bodiless,
            closed_by=later.closed_by,
            started=self.started,
        )


def usable_body(data: Mapping[str, Any]) -> bool:
    """A body the cleaner can read: a non-blank string (a preview is in `blurb`, not here)."""
    body = data.get("body")
    return isinstance(body, str) and bool(body.strip())


def parse_event(raw: Mapping[str, Any]) -> MessageEvent | None:
    """A message event, or None for any other target (comments, tags, merges, ...)."""
    target = raw.get("target")
    if not isinstance(target, dict) or (target.get("_meta") or {}).get("type") != "message":
        return None
    data, conversation = target.get("data"), raw.get("conversation")
    if not isinstance(data, dict) or not data.get("id") or data.get("is_draft"):
        return None
    if not isinstance(conversation, dict) or not conversation.get("id"):
        return None
    ref = parse_conversation(cast(ConversationPayload, conversation))
    created = data.get("created_at", raw.get("emitted_at"))
    if not isinstance(created, int | float):
        return None
    message = parse_message(cast(MessagePayload, data), ref.id) if usable_body(data) else None
    started = conversation.get("created_at")
    return MessageEvent(
        conversation=ConversationRef(ref.id, ref.subject, None, None),
        message_id=str(data["id"]),
        created_at=float(created),
        message=message,
        last_of_conversation=ref.last_message_id == str(data["id"]),
        conversation_started=float(started) if isinstance(started, int | float) else None,
    )


@dataclass(slots=True)
class _Open:
    conversation: ConversationRef
    started: float | None
    messages: list[Message] = field(default_factory=list)
    bodiless: list[tuple[str, float]] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)

    def close(self, why: Literal["last", "end", "evicted"]) -> Group:
        return Group(
            conversation=self.conversation,
            messages=tuple(self.messages),
            bodiless=tuple(self.bodiless),
            closed_by=why,
            started=self.started,
        )


class Grouper:
    """Message events in ascending time → conversation groups, holding at most `max_held`."""

    def __init__(self, max_held: int = DEFAULT_MAX_HELD) -> None:
        if max_held < 1:
            raise ValueError("max_held must be >= 1")
        self.max_held = max_held
        self.held = 0
        self.evicted = 0
        self._open: OrderedDict[str, _Open] = OrderedDict()

    def add(self, event: MessageEvent) -> list[Group]:
        """Take one event; return the groups it closed (its own, or evicted ones)."""
        key = event.conversation.id
        group = self._open.get(key)
        if group is None:
            group = self._open[key] = _Open(event.conversation, event.conversation_started)
        else:
            self._open.move_to_end(key)
        if event.message_id not in group.ids:
            group.ids.add(event.message_id)
            if event.message is not None:
                group.messages.append(event.message)
            else:
                group.bodiless.append((event.message_id, event.created_at))
            self.held += 1
        closed = []
        if event.last_of_conversation:
            closed.append(self._pop(key, "last"))
        while self.held > self.max_held and self._open:
            closed.append(self._pop(next(iter(self._open)), "evicted"))
            self.evicted += 1
        return closed

    def finish(self) -> list[Group]:
        """The stream ended: every open group, least recently active first."""
        return [self._pop(key, "end") for key in list(self._open)]

    def _pop(self, key: str, why: Literal["last", "end", "evicted"]) -> Group:
        group = self._open.pop(key)
        self.held -= len(group.ids)
        return group.close(why)


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
        self._first: tuple[tuple[float | None, float | None], list[dict[str, Any]], URL | None]
        self._first = ((None, None), [], None)
        self._probed = False
        self.counters = EventCounters()

    async def probe(self, after: float | None, before: float | None) -> str | None:
        """Read the window's first page (kept for the scan); None, or why events won't do.

        Raises `MissingScopeError` when the token cannot read events. "No bodies" means
        the page has message events and none of them carries a usable body.
        """
        url = self._client.events_url(after, before, self._inbox)
        results, following = await self._client.events_page(url)
        self._first, self._probed = ((after, before), results, following), True
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

    async def search(self, after: float | None, before: float | None) -> AsyncIterator[SearchPage]:
        """Conversations with new messages in the window, as pages of refs."""
        self._after = after
        grouper = Grouper(self._max_held)
        async for raw_page in self._pages(after, before):
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

    async def _pages(
        self, after: float | None, before: float | None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        url: URL | None
        window, results, url = self._first
        if self._probed and window == (after, before):
            self._probed = False
            yield results
        else:
            url = self._client.events_url(after, before, self._inbox)
        while url is not None:
            results, url = await self._client.events_page(url)
            yield results

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
