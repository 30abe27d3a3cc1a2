"""Frozen domain values that flow between the Front client, the detector, the model and the ledger.

They carry no behaviour beyond small derived properties, so every stage can be tested
with plain values and no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Source = Literal["pattern", "llm", "both"]
Direction = Literal["inbound", "outbound"]
LlmMode = Literal["auto", "always", "never"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A tracking-number-shaped match found by the deterministic detector.

    `number` is normalized (no spaces or dashes, upper case); `start`/`end` index the
    original text. `checksum_valid` is None for formats that carry no check digit.
    `storable` is False for low-confidence hints (no check digit and no nearby
    tracking/carrier keyword): those go to the model, never straight to the ledger.
    """

    number: str
    carrier: str
    format: str
    checksum_valid: bool | None
    confidence: float
    start: int
    end: int
    storable: bool


@dataclass(frozen=True, slots=True)
class ConversationRef:
    """One search result: enough to decide, without another call, whether it changed."""

    id: str
    subject: str
    last_message_id: str | None
    updated_at: float | None


@dataclass(frozen=True, slots=True)
class Message:
    """A Front message as frontscan needs it. `text` is the raw text or HTML body."""

    id: str
    conversation_id: str
    created_at: float
    type: str
    is_inbound: bool
    subject: str
    body: str
    text: str | None


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of search results; `total` is Front's `_total` when it sends one."""

    refs: tuple[ConversationRef, ...]
    total: int | None


@dataclass(frozen=True, slots=True)
class ConversationMessages:
    """New messages of one conversation, newest first as Front lists them.

    `merged_into` is set when Front redirected (301) to the conversation this one was
    merged into: those messages belong to that conversation, not to this one.
    """

    messages: tuple[Message, ...]
    merged_into: str | None = None


@dataclass(frozen=True, slots=True)
class TrackingNumber:
    """A tracking number to store: where it was found, how, and how sure we are."""

    tracking_number: str
    carrier: str
    format: str | None
    checksum_valid: bool | None
    source: Source
    confidence: float
    conversation_id: str
    message_id: str
    snippet: str
    # What its message says about the parcel (see `Mention`); a ShipmentStatus value.
    status: str = "unknown"
    expected_delivery: date | None = None
    order_reference: str | None = None
    direction: Direction | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    """What one message's own text says about one tracking number it names.

    Every message naming a stored number gives one, not only the first: a later "out
    for delivery" is how the ledger's `shipments` row learns the parcel moved on.
    `status` is a `frontscan.shipment.ShipmentStatus` value; `stated_at` is the
    message's sending time, which orders statements.
    """

    tracking_number: str
    carrier: str
    conversation_id: str
    message_id: str
    stated_at: float
    status: str
    expected_delivery: date | None
    order_reference: str | None
    direction: Direction


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A message's ledger row: recorded once processed so it is never sent to the model twice."""

    id: str
    created_at: float
    content_hash: str
    status: Literal["done", "failed", "skipped"]
    extractor_version: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """Everything one conversation's processing produced; committed atomically by the writer.

    `scanned_through` is the newest message time fully processed (the watermark). A failed
    outcome carries the error and leaves the watermark where it was.
    """

    conversation: ConversationRef
    status: Literal["done", "failed"]
    scanned_through: float | None
    last_message_id: str | None
    messages: tuple[MessageRecord, ...] = ()
    numbers: tuple[TrackingNumber, ...] = ()
    error: str | None = None
    llm_dropped: int = 0
    mentions: tuple[Mention, ...] = ()
    claims_dropped: int = 0  # model statements (status, order, date) the text did not back


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """What the ledger knows about a conversation, used to skip unchanged ones."""

    id: str
    scanned_through: float | None
    last_message_id: str | None
    status: str
    attempts: int


@dataclass(slots=True)
class ApiCounters:
    """What one API client spent: calls, 429s, time waiting for budget, tokens."""

    calls: int = 0
    rate_limited: int = 0
    throttled_seconds: float = 0.0
    http_seconds: float = 0.0  # time inside requests, budget waits excluded
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(slots=True)
class RunStats:
    """Counters for one run. Mutable on purpose: the pipeline owns and updates it."""

    conversations_seen: int = 0
    conversations_scanned: int = 0
    conversations_skipped: int = 0
    conversations_failed: int = 0
    messages_processed: int = 0
    numbers_found: int = 0
    llm_dropped: int = 0
    claims_dropped: int = 0
    front_calls: int = 0
    openai_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    throttled_seconds: float = 0.0
    rate_limited: int = 0
    batches: int = 0


@dataclass(frozen=True, slots=True)
class BatchTiming:
    """One committed batch, for the timing line: how long, how slow at worst, what came out."""

    index: int
    conversations: int
    seconds: float
    p95_seconds: float
    numbers: int
    failed: int
    throttled: int  # 429s received while this batch was being worked on
    waited_seconds: float = 0.0  # time workers spent waiting for rate budgets meanwhile


@dataclass(frozen=True, slots=True)
class Planned:
    """What a dry run would do for one conversation: messages to read, tokens to spend."""

    ref: ConversationRef
    new_messages: int
    asks_model: bool
    prompt_tokens: int
    completion_budget: int
