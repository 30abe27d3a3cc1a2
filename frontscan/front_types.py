"""The shapes of the Front Core API JSON that `frontscan.front` reads, as TypedDicts.

Only the fields frontscan looks at, named and typed as the Core API spec
(`ConversationResponse`, `MessageResponse`, `listOfConversationSearchResults`,
`listOfMessages`, `IdentityResponse`) and the error body Front actually sends. Every key
but `id` is optional here although the spec requires many: real answers have lacked
fields the spec lists (`updated_at` on older conversations, `status`/`title` in some
error bodies), so the parsers treat each one as possibly absent. These types are not
checked at runtime: the JSON is cast to them and the parsers still test what they use.
"""

from __future__ import annotations

from typing import Required, TypedDict


class SelfLink(TypedDict, total=False):
    self: str


class Pagination(TypedDict, total=False):
    """`_pagination`: `next` is an absolute URL that already carries the page token."""

    next: str | None


class ConversationRelated(TypedDict, total=False):
    events: str
    followers: str
    messages: str
    comments: str
    inboxes: str
    last_message: str  # `.../messages/msg_1q15qmtq?referer=conversation`


class ConversationLinks(TypedDict, total=False):
    self: str
    related: ConversationRelated


class ConversationPayload(TypedDict, total=False):
    """A `ConversationResponse`, as a search result."""

    _links: ConversationLinks
    id: Required[str]
    type: str  # "conversation", "discussion" or "task"
    subject: str
    status: str
    created_at: float  # Unix seconds
    updated_at: float  # Unix seconds; absent in older real answers


class MessageRelated(TypedDict, total=False):
    conversation: str
    message_replied_to: str
    message_seen: str


class MessageLinks(TypedDict, total=False):
    self: str
    related: MessageRelated


class MessagePayload(TypedDict, total=False):
    """A `MessageResponse`, plus the `is_draft` real answers carry and the spec omits."""

    _links: MessageLinks
    id: Required[str]
    type: str  # "email", "sms", "custom", ...
    is_inbound: bool
    is_draft: bool
    draft_mode: str | None  # "shared" or "private" for drafts
    created_at: float  # Unix seconds
    subject: str
    blurb: str
    body: str  # HTML
    text: str | None  # the plain part, when Front has one


class Envelope(TypedDict, total=False):
    _pagination: Pagination
    _links: SelfLink


class ConversationSearchPage(Envelope, total=False):
    """`GET /conversations/search/{query}`: `_total` may be capped, so paging follows `next`."""

    _results: list[ConversationPayload]
    _total: int


class MessagePage(Envelope, total=False):
    """`GET /conversations/{conversation_id}/messages`, newest first by default."""

    _results: list[MessagePayload]


class IdentityPayload(TypedDict, total=False):
    """`GET /me`: the company the token belongs to."""

    _links: SelfLink
    id: str
    name: str


class ErrorDetail(TypedDict, total=False):
    status: int
    title: str
    message: str
    details: list[str]


class ErrorBody(TypedDict, total=False):
    """Any 4xx/5xx body: `{"_error": {...}}`, where even `status` and `title` may be missing."""

    _error: ErrorDetail
