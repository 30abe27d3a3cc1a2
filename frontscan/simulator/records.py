"""Frozen values the fake mailbox is made of: inboxes, conversations, messages, ground truth.

They mirror what Front stores, not what it serves: the server module turns them into
Front's JSON shapes, so the wire format lives in one place and these stay easy to assert on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from frontscan.simulator.content import Party


@dataclass(frozen=True, slots=True)
class TruthNumber:
    """A planted tracking number and the message it FIRST appears in (quotes do not count)."""

    conversation_id: str
    message_id: str
    tracking_number: str
    carrier: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TruthMention:
    """What one message's own text (not its quotes) says about one number it names; a
    `quoted` one is a number the message prints only in the mail it quotes (says nothing)."""

    conversation_id: str
    message_id: str
    tracking_number: str
    status: str
    expected_delivery: date | None
    order_reference: str | None
    direction: str  # "inbound" or "outbound"
    stated_at: float
    quoted: bool = False


@dataclass(frozen=True, slots=True)
class Inbox:
    id: str
    name: str
    address: str


@dataclass(frozen=True, slots=True)
class SimMessage:
    """One message. `body` is HTML for e-mail and plain text for SMS/custom channels.

    `text` is None for HTML-only e-mail (Front documents `text` for e-mail only, and real
    mail often lacks a text part). `plain` is always there: it is what replies quote and
    what search matches.
    """

    id: str
    conversation_id: str
    message_uid: str
    created_at: float
    type: str
    is_inbound: bool
    subject: str
    body: str
    text: str | None
    plain: str
    sender: Party
    recipient: Party
    author_id: str | None
    replied_to: str | None


@dataclass(frozen=True, slots=True)
class SimConversation:
    """A conversation and its messages, oldest first; the newest defines last activity."""

    id: str
    subject: str
    channel: str
    inbox_id: str
    status: str
    assignee_id: str | None
    tag_ids: tuple[str, ...]
    contact: Party
    messages: tuple[SimMessage, ...]

    @property
    def created_at(self) -> float:
        return self.messages[0].created_at

    @property
    def last_activity(self) -> float:
        return self.messages[-1].created_at

    @property
    def last_message(self) -> SimMessage:
        return self.messages[-1]

    @property
    def waiting_since(self) -> float | None:
        """The oldest inbound message not followed by an outbound one (Front's definition)."""
        since: float | None = None
        for message in self.messages:
            if not message.is_inbound:
                since = None
            elif since is None:
                since = message.created_at
        return since


TEAMMATES: tuple[tuple[str, str, str], ...] = (
    ("tea_6r55a", "Michael", "Scott"),
    ("tea_2k8dq", "Pam", "Beesly"),
    ("tea_9x1mz", "Jim", "Halpert"),
)
TAGS: tuple[tuple[str, str], ...] = (
    ("tag_2m9q1", "Shipping"),
    ("tag_4f0ka", "Urgent"),
    ("tag_7b3nc", "Supplier"),
    ("tag_1p8yw", "Returns"),
)
