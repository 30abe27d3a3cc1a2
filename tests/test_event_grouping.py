"""Pure parts of the event source: reading an event, grouping a stream into conversations."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from frontscan.event_groups import Grouper, MessageEvent, parse_event
from frontscan.models import ConversationRef, Message

BASE = "https://acme.api.frontapp.com"


def raw_event(
    conversation: str,
    message: str,
    created: float,
    *,
    last: str | None = None,
    body: str | None = "<div>Your parcel <b>1Z 999 AA1 01 2345 6784</b> shipped</div>",
    kind: str = "inbound",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "_links": {"self": f"{BASE}/messages/{message}"},
        "id": message,
        "type": "email",
        "is_inbound": kind == "inbound",
        "is_draft": False,
        "created_at": created,
        "subject": "Re: Where is order #44871?",
        "blurb": "Your parcel 1Z 999 AA1 01 2345 6784 shipped",
        "text": None,
    }
    if body is not None:
        data["body"] = body
    return {
        "_links": {"self": f"{BASE}/events/evt_{message[4:]}"},
        "id": f"evt_{message[4:]}",
        "type": kind,
        "emitted_at": created,
        "source": {"_meta": {"type": "inboxes"}, "data": []},
        "target": {"_meta": {"type": "message"}, "data": data},
        "conversation": {
            "_links": {
                "self": f"{BASE}/conversations/{conversation}",
                "related": {"last_message": f"{BASE}/messages/{last or 'msg_other'}"},
            },
            "id": conversation,
            "subject": "Where is order #44871?",
            "updated_at": created + 50,
        },
    }


def test_a_message_event_carries_the_message_and_says_if_it_is_the_last() -> None:
    event = parse_event(raw_event("cnv_1", "msg_a", 1767225600.125, last="msg_a"))
    assert event is not None
    assert event.conversation == ConversationRef(
        id="cnv_1", subject="Where is order #44871?", last_message_id=None, updated_at=None
    )
    assert event.message is not None
    assert event.message.id == "msg_a"
    assert event.message.conversation_id == "cnv_1"
    assert "1Z 999 AA1" in event.message.body
    assert event.last_of_conversation
    later = parse_event(raw_event("cnv_1", "msg_b", 1767225601.0, last="msg_c"))
    assert later is not None
    assert not later.last_of_conversation


def test_an_event_without_a_usable_body_keeps_the_id_but_no_message() -> None:
    for body in (None, "", "   "):
        event = parse_event(raw_event("cnv_1", "msg_a", 1767225600.0, body=body))
        assert event is not None
        assert event.message is None
        assert event.message_id == "msg_a"
        assert event.created_at == 1767225600.0


def test_events_that_target_no_message_are_not_message_events() -> None:
    comment = raw_event("cnv_1", "msg_a", 1.0)
    comment["type"] = "comment"
    comment["target"] = {"_meta": {"type": "comment"}, "data": {"id": "com_1", "body": "x"}}
    merged = raw_event("cnv_1", "msg_a", 1.0)
    merged["target"] = {"_meta": {"type": "deleted_conversation_ids"}, "data": ["cnv_9"]}
    draft = raw_event("cnv_1", "msg_a", 1.0)
    draft["target"]["data"]["is_draft"] = True
    partial = raw_event("cnv_1", "msg_a", 1.0)
    del partial["conversation"]
    assert [parse_event(e) for e in (comment, merged, draft, partial)] == [None] * 4


def event(conversation: str, message: str, at: float, *, last: bool = False) -> MessageEvent:
    body = f"<p>message {message}</p>"
    msg = Message(
        id=message,
        conversation_id=conversation,
        created_at=at,
        type="email",
        is_inbound=True,
        subject="s",
        body=body,
        text=None,
    )
    return MessageEvent(
        conversation=ConversationRef(
            id=conversation, subject="s", last_message_id=None, updated_at=None
        ),
        message_id=message,
        created_at=at,
        message=msg,
        last_of_conversation=last,
    )


def test_a_group_closes_when_its_last_message_arrives() -> None:
    grouper = Grouper()
    assert grouper.add(event("cnv_1", "msg_1", 1.0)) == []
    assert grouper.add(event("cnv_2", "msg_2", 2.0)) == []
    closed = grouper.add(event("cnv_1", "msg_3", 3.0, last=True))
    assert [g.conversation.id for g in closed] == ["cnv_1"]
    assert [m.id for m in closed[0].messages] == ["msg_1", "msg_3"]
    assert closed[0].closed_by == "last"
    assert grouper.held == 1
    rest = grouper.finish()
    assert [(g.conversation.id, g.closed_by) for g in rest] == [("cnv_2", "end")]
    assert grouper.held == 0


def test_bodiless_messages_and_repeats() -> None:
    grouper = Grouper()
    grouper.add(event("cnv_1", "msg_1", 1.0))
    grouper.add(event("cnv_1", "msg_1", 1.0))  # the same event twice: one message
    bodiless = MessageEvent(
        conversation=ConversationRef(
            id="cnv_1", subject="s", last_message_id=None, updated_at=None
        ),
        message_id="msg_2",
        created_at=2.0,
        message=None,
        last_of_conversation=True,
    )
    (group,) = grouper.add(bodiless)
    assert [m.id for m in group.messages] == ["msg_1"]
    assert group.bodiless == (("msg_2", 2.0),)
    assert group.message_ids == ("msg_1", "msg_2")


def test_memory_is_bounded_by_evicting_the_least_recently_active_group() -> None:
    grouper = Grouper(max_held=3)
    grouper.add(event("cnv_1", "msg_1", 1.0))
    grouper.add(event("cnv_2", "msg_2", 2.0))
    grouper.add(event("cnv_1", "msg_3", 3.0))
    closed = grouper.add(event("cnv_3", "msg_4", 4.0))
    assert [(g.conversation.id, g.closed_by) for g in closed] == [("cnv_2", "evicted")]
    assert grouper.held == 3
    assert grouper.evicted == 1


@given(
    st.lists(st.tuples(st.integers(0, 6), st.booleans()), min_size=0, max_size=80),
    st.integers(1, 12),
)
def test_every_message_lands_in_exactly_one_group_in_order(
    stream: list[tuple[int, bool]], max_held: int
) -> None:
    grouper = Grouper(max_held=max_held)
    groups = []
    sent: dict[str, list[str]] = {}
    for index, (conv, last) in enumerate(stream):
        cid, mid = f"cnv_{conv}", f"msg_{index}"
        sent.setdefault(cid, []).append(mid)
        groups += grouper.add(event(cid, mid, float(index), last=last))
        assert grouper.held <= max_held
    groups += grouper.finish()
    got: dict[str, list[str]] = {}
    for group in groups:
        got.setdefault(group.conversation.id, []).extend(m.id for m in group.messages)
        assert all(m.conversation_id == group.conversation.id for m in group.messages)
    assert got == sent
    assert grouper.held == 0


def test_a_long_interleaved_stream_holds_only_the_open_conversations() -> None:
    rng = random.Random(4)
    grouper = Grouper()
    peak = 0
    index = 0
    for conv in range(2000):  # each conversation: three messages within a few events
        for step in range(3):
            jitter = rng.randint(0, 3)
            grouper.add(event(f"cnv_{conv}", f"msg_{index}", index + jitter, last=step == 2))
            index += 1
            peak = max(peak, grouper.held)
    assert grouper.finish() == []
    assert peak <= 2
