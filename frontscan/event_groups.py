"""Message events → conversation groups: the pure half of the event-stream source.

Events come oldest first. A conversation's group is handed on as soon as its last
message arrives (the event's conversation links its `last_message`), when the stream
ends, or, if more than `max_held` messages are waiting, when it is the least recently
active group, so memory stays bounded whatever the window. No I/O: plain unit tests.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from frontscan.front import parse_conversation, parse_message
from frontscan.front_types import ConversationPayload, MessagePayload
from frontscan.models import ConversationRef, Message

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
        conversation=ConversationRef(
            id=ref.id, subject=ref.subject, last_message_id=None, updated_at=None
        ),
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
