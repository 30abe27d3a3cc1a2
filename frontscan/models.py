"""Frozen domain values that flow between the Front client, the detector, the model and the ledger.

They carry no behaviour beyond small derived properties, so every stage can be tested
with plain values and no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

Source = Literal["pattern", "llm", "both"]
Direction = Literal["inbound", "outbound"]
LlmMode = Literal["auto", "always", "never"]
SourceMode = Literal["auto", "events", "search"]
Prompting = Literal["evidence", "whole"]  # what the model is shown (`openai.prompt`)


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationRef:
    """One search result: enough to decide, without another call, whether it changed."""

    id: str
    subject: str
    last_message_id: str | None
    updated_at: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
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
    status: str = "unknown"  # what its message says about the parcel (see `Mention`)
    expected_delivery: date | None = None
    order_reference: str | None = None
    direction: Direction | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Mention:
    """What one message's own text says about a number it names (a ShipmentStatus value,
    sent at `stated_at`), stored per (message, number) in `frontscan.mentions`; later ones
    are how the `shipments` row learns what happened. A `quoted` mention is a message that
    prints the number only inside the history it quotes: status `unknown`, no order or
    date, and it never moves the `shipments` row (what a quote says, its own mail said)."""

    tracking_number: str
    carrier: str
    conversation_id: str
    message_id: str
    stated_at: float
    status: str
    expected_delivery: date | None
    order_reference: str | None
    direction: Direction
    quoted: bool = False  # named only inside the history the message quotes: says nothing


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRecord:
    """A message's ledger row: recorded once processed so it is never sent to the model twice."""

    id: str
    created_at: float
    content_hash: str
    status: Literal["done", "failed", "skipped"]
    extractor_version: str


@dataclass(frozen=True, slots=True, kw_only=True)
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
    model_call_avoided: bool = False  # stored from the detector alone: it was sure


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerEntry:
    """What the ledger knows about a conversation, used to skip unchanged ones; `numbers`
    are the (tracking number, carrier) pairs earlier scans stored for it, so a new reply
    that names or quotes one of them is recorded as its mention."""

    id: str
    scanned_through: float | None
    last_message_id: str | None
    status: str
    attempts: int
    numbers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStats:
    """The counters of one run, one vocabulary everywhere.

    These field names are the keys of `scan --json`, the columns of the `runs` table and
    the keys of each run in `status --json`. The pipeline counts the conversation side,
    the API side comes from the clients' `ApiUsage` (`limits.bound.with_usage`).
    """

    conversations_seen: int = 0
    conversations_scanned: int = 0
    conversations_skipped: int = 0
    conversations_failed: int = 0
    messages_processed: int = 0
    numbers_found: int = 0
    llm_dropped: int = 0
    claims_dropped: int = 0
    batches: int = 0
    front_calls: int = 0
    openai_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rate_limited: int = 0
    throttled_seconds: float = 0.0
    model_calls_avoided: int = 0  # conversations stored from the detector alone (it was sure)
    completion_budget: int = 0  # max_completion_tokens asked for, summed over calls
    server_tokens: int | None = None  # TPM the server charged (its headers); None: unknown


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """A search window in Unix seconds; None is open-ended on that side."""

    after: float | None = None
    before: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanRequest:
    """What the operator asked `scan` for; the pipeline's plan holds it unchanged."""

    after: float | None = None
    before: float | None = None
    inbox: str | None = None
    query: str | None = None
    rescan: bool = False
    limit: int | None = None
    dry_run: bool = False
    max_cost: float | None = None
    retry_failed: bool = False
    slice_days: float = 7.0
    source: SourceMode | None = None  # None: the configured front.source

    @property
    def window(self) -> Window:
        return Window(after=self.after, before=self.before)

    @property
    def advances_watermark(self) -> bool:
        """Whether a completed run covered all activity up to its start (cron may continue)."""
        return not (
            self.retry_failed
            or self.limit is not None
            or self.inbox
            or self.query
            or self.before is not None
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The request plus what the runner resolved for it: windows, settings, retry list.

    `slices` are searched in order; `retry_refs` (`--retry-failed`) replace the search.
    """

    request: ScanRequest
    llm: LlmMode
    model: str
    max_completion_tokens: int
    slices: tuple[Window, ...] = ()
    retry_refs: tuple[ConversationRef, ...] = ()
    concurrency: int = 20
    batch_size: int = 50
    max_attempts: int = 3
    prompting: Prompting = "evidence"  # "whole": the full new text, as before


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessage:
    """One message of a chat-completions prompt."""

    role: Literal["system", "user"]
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelCall:
    """One conversation's model call, built once (`answers.model_call`) and used three times.

    The `--max-cost` reservation and the TPM budget charge `prompt_tokens +
    completion_budget`, a dry run lists it, and the extractor sends `body()` as the
    chat-completions request (structured output schema added by `extract.py`).
    """

    model: str
    messages: tuple[ChatMessage, ...]
    prompt_tokens: int  # a conservative estimate, schema overhead included
    completion_budget: int  # `max_completion_tokens`, charged in full by OpenAI up front
    length_retry_budget: int | None = None  # a larger budget for one retry after `length`

    @property
    def charged_tokens(self) -> int:
        return self.prompt_tokens + self.completion_budget

    def body(self) -> dict[str, Any]:
        """The chat-completions request body (JSON-serialisable), without `response_format`."""
        return {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in self.messages],
            "max_completion_tokens": self.completion_budget,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A number the model says it saw (and what of its parcel), not yet checked."""

    message_id: str
    tracking_number: str
    carrier: str | None
    status: str | None = None
    order_reference: str | None = None
    expected_delivery: str | None = None  # YYYY-MM-DD as the model wrote it


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """What a dry run would do for one conversation: messages to read, the model call to make."""

    ref: ConversationRef
    new_messages: int
    call: ModelCall | None  # None: the model would not be asked
    avoided: bool = False  # not asked because the detector was sure
    via_batch: bool = False  # the call would be a line of an OpenAI Batch, at half price

    @property
    def asks_model(self) -> bool:
        return self.call is not None

    @property
    def prompt_tokens(self) -> int:
        return 0 if self.call is None else self.call.prompt_tokens

    @property
    def completion_budget(self) -> int:
        return 0 if self.call is None else self.call.completion_budget


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchStats:
    """A run's Batch API side: what it submitted, what it collected, what still waits.

    Costs of collected batches come from the usage OpenAI reported for their lines, at
    the batch price; `saved_usd` is what the same tokens would have cost online.
    `estimated_usd` is the worst case of what this run submitted (the whole completion
    budget of every line), the figure `--max-cost` counts.
    """

    submitted: int = 0  # requests (conversations) put in batches by this run
    batches_created: int = 0
    estimated_usd: float = 0.0
    collected_batches: int = 0
    answered: int = 0  # lines whose answers were recorded
    returned: int = 0  # lines that expired or failed: back to the normal queue
    numbers_found: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    saved_usd: float = 0.0
    waiting: int = 0  # requests still in open batches when the run ended
    open_batches: int = 0
