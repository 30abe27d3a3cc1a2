"""The fake Front's event stream: `GET /events` as core-api.json describes list-events.

Every message of the mailbox is one event (`inbound`, `out_reply`, `outbound`, or a
`forward` now and then); comments, tags, assignments and merges are mixed in as Front
would report them, so a client that filters by `q[types]` is tested against a stream
that does contain other types. Events are derived from the mailbox alone (a pure
function of it), in ascending `(emitted_at, id)` order, and rebuilt when new mail
arrives. The JSON shapes follow EventResponse: `source` and `target` carry `_meta.type`
plus `data`; a message target's `data` is the full MessageResponse, unless the server
was told to drop `body` from a share of them (the spec calls `target` a "partial
representation", and whether live Front sends bodies here is unverified).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from frontscan.simulator import front_shapes as shapes
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.records import TEAMMATES, SimConversation, SimMessage

MESSAGE_TYPES = frozenset(
    {"inbound", "outbound", "out_reply", "forward", "sending_error", "message_bounce_error"}
)
EVENT_TYPES = frozenset(
    {
        "assign", "unassign", "archive", "reopen", "trash", "restore", "reminder", "comment",
        "mention", "inbound", "outbound", "out_reply", "move", "forward", "tag", "untag",
        "sending_error", "message_bounce_error", "conversations_merged", "link_added",
        "link_removed", "custom_field_updated", "macro_triggered", "topic_identified",
        "ticket_status_update", "call_started", "call_abandoned", "call_queued",
        "call_on_hold", "call_parked", "call_resumed", "call_connected", "call_missed",
        "call_hangup", "call_transferred", "call_transcript_added",
        "call_voicemail_transcript_added",
    }
)  # fmt: skip
MAX_LIMIT = 15
_COMMENT = (
    "Checked with the warehouse: the parcel left the dock yesterday, "
    "customer has the link. Leaving this open until it is delivered."
)


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One event. `subject_id` is the message, tag, teammate or comment it targets."""

    id: str
    type: str
    emitted_at: float
    conversation_id: str
    subject_id: str
    merged_ids: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[float, str]:
        return (self.emitted_at, self.id)


def _event_id(seed: str) -> str:
    return "evt_" + hashlib.sha256(seed.encode()).hexdigest()[:10]


def _share(seed: str) -> float:
    """A stable number in [0, 1) for `seed`: which events get a comment, a forward, ..."""
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) / 2**32


def _message_type(message: SimMessage) -> str:
    if message.is_inbound:
        return "inbound"
    if message.replied_to is None:
        return "outbound"
    return "forward" if _share("fwd" + message.id) < 0.05 else "out_reply"


def events_of(conv: SimConversation) -> list[SimEvent]:
    """A conversation's events: its messages, then tags, assignment and a comment."""
    found = [
        SimEvent(_event_id(m.id), _message_type(m), m.created_at, conv.id, m.id)
        for m in conv.messages
    ]
    first = conv.messages[0].created_at
    for index, tag_id in enumerate(conv.tag_ids):
        stamp = round(first + 60.0 + index, 3)
        found.append(SimEvent(_event_id(conv.id + tag_id), "tag", stamp, conv.id, tag_id))
    if conv.assignee_id:
        stamp = round(first + 120.0, 3)
        found.append(SimEvent(_event_id(conv.id + "a"), "assign", stamp, conv.id, conv.assignee_id))
    if _share("cmt" + conv.id) < 0.35:
        comment_id = "com_" + hashlib.sha256(conv.id.encode()).hexdigest()[:7]
        stamp = round(first + 300.0, 3)
        found.append(SimEvent(_event_id(comment_id), "comment", stamp, conv.id, comment_id))
    return found


class EventLog:
    """All events of a mailbox in ascending order, rebuilt when the mailbox changes."""

    def __init__(self, mailbox: Mailbox) -> None:
        self._mailbox = mailbox
        self._version = -1
        self._events: list[SimEvent] = []

    def events(self) -> list[SimEvent]:
        if self._version != self._mailbox.version:
            found: list[SimEvent] = []
            for conv in self._mailbox.conversations.values():
                found.extend(events_of(conv))
            by_survivor: dict[str, list[str]] = {}
            for gone, survivor in sorted(self._mailbox.merged_into.items()):
                by_survivor.setdefault(survivor, []).append(gone)
            for survivor, gone_ids in by_survivor.items():
                conv = self._mailbox.conversations[survivor]
                stamp = round(conv.messages[0].created_at + 600.0, 3)
                found.append(
                    SimEvent(
                        _event_id("merge" + survivor),
                        "conversations_merged",
                        stamp,
                        survivor,
                        survivor,
                        tuple(gone_ids),
                    )
                )
            self._events = sorted(found, key=lambda e: e.key)
            self._version = self._mailbox.version
        return self._events


@dataclass(frozen=True, slots=True)
class EventFilter:
    """`q[types]`, `q[after]`, `q[before]`, `q[inboxes]`: all optional, ANDed."""

    types: frozenset[str] = frozenset()
    after: float | None = None
    before: float | None = None
    inboxes: frozenset[str] = frozenset()

    def select(self, events: Sequence[SimEvent], mailbox: Mailbox) -> list[SimEvent]:
        chosen = []
        for event in events:
            if self.types and event.type not in self.types:
                continue
            if self.after is not None and event.emitted_at <= self.after:
                continue
            if self.before is not None and event.emitted_at >= self.before:
                continue
            if self.inboxes and mailbox.conversations[event.conversation_id].inbox_id not in (
                self.inboxes
            ):
                continue
            chosen.append(event)
        return chosen


def drops_body(message_id: str, rate: float, seed: int) -> bool:
    """Whether the server leaves `body` (and `text`) out of this message's event."""
    return rate > 0 and _share(f"{seed}:{message_id}") < rate


def event_json(
    base: str, event: SimEvent, mailbox: Mailbox, *, body_drop_rate: float, seed: int
) -> dict[str, Any]:
    """An EventResponse: `source` and `target` as `_meta.type` + `data`, the conversation."""
    conv = mailbox.conversations[event.conversation_id]
    target: dict[str, Any]
    source: dict[str, Any]
    if event.type in MESSAGE_TYPES:
        message = mailbox.message(event.subject_id)
        assert message is not None
        data = shapes.message(base, message)
        if drops_body(message.id, body_drop_rate, seed):
            data.pop("body", None)
            data.pop("text", None)
        target = {"_meta": {"type": "message"}, "data": data}
        if message.is_inbound:
            inbox = next(box for box in mailbox.inboxes if box.id == conv.inbox_id)
            source = {"_meta": {"type": "inboxes"}, "data": [shapes.inbox(base, inbox)]}
        else:
            source = _teammate_source(base, message.author_id or conv.assignee_id)
    elif event.type == "tag":
        target = {"_meta": {"type": "tag"}, "data": shapes.tag(base, event.subject_id)}
        source = _teammate_source(base, conv.assignee_id)
    elif event.type == "assign":
        target = {"_meta": {"type": "teammate"}, "data": shapes.teammate(base, event.subject_id)}
        source = _teammate_source(base, conv.assignee_id)
    elif event.type == "comment":
        target = {"_meta": {"type": "comment"}, "data": _comment(base, event, conv)}
        source = _teammate_source(base, conv.assignee_id)
    else:  # conversations_merged: the target lists the conversations that were absorbed
        target = {"_meta": {"type": "deleted_conversation_ids"}, "data": list(event.merged_ids)}
        source = _teammate_source(base, conv.assignee_id)
    return {
        "_links": {"self": f"{base}/events/{event.id}"},
        "id": event.id,
        "type": event.type,
        "emitted_at": event.emitted_at,
        "source": source,
        "target": target,
        "conversation": shapes.conversation(base, conv),
    }


def _teammate_source(base: str, teammate_id: str | None) -> dict[str, Any]:
    """The teammate who acted: the assignee when there is one, else the first teammate."""
    acting = teammate_id or TEAMMATES[0][0]
    return {"_meta": {"type": "teammate"}, "data": shapes.teammate(base, acting)}


def _comment(base: str, event: SimEvent, conv: SimConversation) -> dict[str, Any]:
    author = conv.assignee_id or TEAMMATES[0][0]
    return {
        "_links": {
            "self": f"{base}/comments/{event.subject_id}",
            "related": {
                "conversation": f"{base}/conversations/{conv.id}",
                "mentions": f"{base}/comments/{event.subject_id}/mentions",
                "comment_replied_to": None,
            },
        },
        "id": event.subject_id,
        "author": shapes.teammate(base, author),
        "body": _COMMENT,
        "posted_at": event.emitted_at,
        "attachments": [],
        "is_pinned": False,
    }
