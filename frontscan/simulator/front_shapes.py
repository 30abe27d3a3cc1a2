"""Front's JSON shapes for the simulator's records, following core-api.json.

Every required field of `ConversationResponse`, `MessageResponse`, `InboxResponse`,
`TeammateResponse`, `TagResponse` and `RecipientResponse` is present, links are absolute
on the simulator's own host, and optional fields are omitted rather than sent as null
where the spec does not allow null. Two deliberate deviations copy real responses, not
the spec: `author` is null for inbound messages and `text` is null for HTML-only mail.
"""

from __future__ import annotations

import re
from typing import Any

from frontscan.simulator.content import Party
from frontscan.simulator.records import TAGS, TEAMMATES, Inbox, SimConversation, SimMessage

JSON = dict[str, Any]
_TAG_NAMES = dict(TAGS)
_TEAMMATES = {tid: (first, last) for tid, first, last in TEAMMATES}
_WS = re.compile(r"\s+")


def teammate(base: str, teammate_id: str) -> JSON:
    first, last = _TEAMMATES[teammate_id]
    return {
        "_links": {
            "self": f"{base}/teammates/{teammate_id}",
            "related": {
                "inboxes": f"{base}/teammates/{teammate_id}/inboxes",
                "conversations": f"{base}/teammates/{teammate_id}/conversations",
            },
        },
        "id": teammate_id,
        "email": f"{first.lower()}@acme.example",
        "username": f"{first}{last}",
        "first_name": first,
        "last_name": last,
        "license_type": "full",
        "is_admin": teammate_id == TEAMMATES[0][0],
        "is_available": True,
        "is_blocked": False,
        "type": "user",
        "custom_fields": {},
    }


def recipient(base: str, party: Party, role: str) -> JSON:
    slug = re.sub(r"[^a-z0-9]", "", party.handle.lower())[:10]
    return {
        "_links": {"related": {"contact": f"{base}/contacts/crd_{slug}"}},
        "name": party.name,
        "handle": party.handle,
        "role": role,
    }


def tag(base: str, tag_id: str) -> JSON:
    return {
        "_links": {
            "self": f"{base}/tags/{tag_id}",
            "related": {
                "conversations": f"{base}/tags/{tag_id}/conversations",
                "owner": None,
                "parent_tag": None,
                "children": None,
            },
        },
        "id": tag_id,
        "name": _TAG_NAMES[tag_id],
        "description": None,
        "highlight": "blue",
        "is_private": False,
        "is_visible_in_conversation_lists": True,
        "created_at": 1690000000.125,
        "updated_at": 1700000000.5,
    }


def conversation(base: str, conv: SimConversation) -> JSON:
    """A `ConversationResponse`; `updated_at` is the last activity (newest message)."""
    link = f"{base}/conversations/{conv.id}"
    out: JSON = {
        "_links": {
            "self": link,
            "related": {
                "events": f"{link}/events",
                "followers": f"{link}/followers",
                "messages": f"{link}/messages",
                "comments": f"{link}/comments",
                "inboxes": f"{link}/inboxes",
                "last_message": f"{base}/messages/{conv.last_message.id}",
            },
        },
        "id": conv.id,
        "type": "conversation",
        "subject": conv.subject,
        "status": conv.status,
        "ticket_ids": [],
        "assignee": teammate(base, conv.assignee_id) if conv.assignee_id else None,
        "recipient": recipient(base, conv.contact, "from"),
        "tags": [tag(base, tag_id) for tag_id in conv.tag_ids],
        "links": [],
        "custom_fields": {},
        "created_at": conv.created_at,
        "updated_at": conv.last_activity,
        "is_private": False,
        "scheduled_reminders": [],
        "metadata": {},
    }
    waiting = conv.waiting_since
    if waiting is not None:
        out["waiting_since"] = waiting
    return out


def message(base: str, msg: SimMessage) -> JSON:
    """A `MessageResponse` as Front serves it, including the unlisted `is_draft`."""
    link = f"{base}/messages/{msg.id}"
    related = {"conversation": f"{base}/conversations/{msg.conversation_id}"}
    if msg.replied_to:
        related["message_replied_to"] = f"{base}/messages/{msg.replied_to}"
    related["message_seen"] = f"{link}/seen"
    first_part = msg.plain.split("\nOn ", 1)[0].split("-----Original Message-----", 1)[0]
    out: JSON = {
        "_links": {"self": link, "related": related},
        "id": msg.id,
        "message_uid": msg.message_uid,
        "type": msg.type,
        "is_inbound": msg.is_inbound,
        "is_draft": False,
        "draft_mode": None,
        "version": f"{msg.message_uid[:24]}-{int(msg.created_at * 1000)}-{msg.message_uid[-4:]}",
        "created_at": msg.created_at,
        "subject": msg.subject,
        "blurb": _WS.sub(" ", first_part).strip()[:120],
        "author": teammate(base, msg.author_id) if msg.author_id else None,
        "recipients": [
            recipient(base, msg.sender, "from"),
            recipient(base, msg.recipient, "to"),
        ],
        "body": msg.body,
        "text": msg.text,
        "attachments": [],
        "metadata": {},
    }
    if msg.type == "custom":
        out["metadata"] = {"thread_ref": f"thr_{msg.conversation_id[4:]}", "headers": {}}
    return out


def inbox(base: str, box: Inbox) -> JSON:
    link = f"{base}/inboxes/{box.id}"
    return {
        "_links": {
            "self": link,
            "related": {
                "teammates": f"{link}/teammates",
                "conversations": f"{link}/conversations",
                "channels": f"{link}/channels",
                "owner": f"{base}/teams/tim_k30",
            },
        },
        "id": box.id,
        "name": box.name,
        "is_private": False,
        "is_public": True,
        "custom_fields": {},
        "address": box.address,
        "send_as": box.address,
        "type": "smtp" if "@" in box.address else "twilio",
    }


def error(status: int, title: str, message: str) -> JSON:
    """Front's error envelope."""
    return {"_error": {"status": status, "title": title, "message": message}}
