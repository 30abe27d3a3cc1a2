"""One conversation ref → one `Outcome`: the domain work of a scan, with no scheduling.

Fetch the messages new since the watermark, prepare their text, decide whether the model
is needed, build its one `ModelCall`, reserve its worst-case cost against `--max-cost`,
ask, validate the claims against the text and merge them with the detector's finds, then
read what each message says about each stored number's parcel (`shipment.mentions`). The
pipeline decides when and how many of these run; this module decides what each one does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace

from frontscan.answers import EXTRACTOR_VERSION, ModelFind, merge, shipment_claims, validate
from frontscan.breaker import OutageBreaker
from frontscan.errors import ConfigError, ItemError, TransientError
from frontscan.models import (
    ConversationRef,
    LedgerEntry,
    MessageRecord,
    ModelCall,
    Outcome,
    Plan,
    Planned,
)
from frontscan.ports import BatchRoute, Extractor, Source
from frontscan.prompt import (
    PreparedMessage,
    cost_usd,
    model_call,
    needs_model,
    prepare,
    worst_batch_cost_usd,
    worst_cost_usd,
)
from frontscan.shipment.mentions import ClaimKey, ClaimValues, describe, left_open

# What the model step gives: validated finds (None: not asked), numbers dropped, and
# what the model said about each number's parcel.
ModelStep = tuple[list[ModelFind] | None, int, dict[ClaimKey, ClaimValues]]


class OverBudget(Exception):
    """The next model call could take the spend past `--max-cost`: the run should stop."""


class Spending:
    """The `--max-cost` guard: what the model has cost so far plus what calls in flight may.

    Spent is computed from the tokens OpenAI reported; a call in flight is reserved at its
    worst case (whole completion budget) until it returns.
    """

    def __init__(self, extractor: Extractor | None, model: str, limit: float | None) -> None:
        self._extractor = extractor
        self._model = model
        self._limit = limit
        self._reserved = 0.0
        self.batch_usd = 0.0  # worst case of the lines put in batches by this run

    def commit_batch(self, call: ModelCall) -> None:
        """Count a batch line at its worst case (half price); it is paid when it runs."""
        worst = worst_batch_cost_usd(call)
        if self._over(worst):
            raise OverBudget
        self.batch_usd += worst

    def _over(self, worst: float) -> bool:
        spent = self.spent_usd + self.batch_usd + self._reserved
        return self._limit is not None and spent + worst > self._limit

    @property
    def spent_usd(self) -> float:
        if self._extractor is None:
            return 0.0
        used = self._extractor.usage()
        return cost_usd(self._model, used.prompt_tokens, used.completion_tokens)

    @contextmanager
    def reserve(self, call: ModelCall) -> Iterator[None]:
        worst = worst_cost_usd(call)
        if self._over(worst):
            raise OverBudget
        self._reserved += worst
        try:
            yield
        finally:
            self._reserved -= worst


def failed(ref: ConversationRef, error: str) -> Outcome:
    """A failed outcome: the error is recorded, the watermark stays where it was."""
    return Outcome(
        conversation=ref, status="failed", scanned_through=None, last_message_id=None, error=error
    )


class ConversationScanner:
    """Turns one conversation ref into its `Outcome` (dry runs: also a `Planned`)."""

    def __init__(
        self,
        source: Source,
        extractor: Extractor | None,
        plan: Plan,
        batch: BatchRoute | None = None,
        breaker: OutageBreaker | None = None,
    ) -> None:
        self._source = source
        self._extractor = extractor
        self._plan = plan
        self._spending = Spending(extractor, plan.model, plan.request.max_cost)
        self._batch = batch
        self.planned: list[Planned] = []  # dry runs only, in the order they were decided
        self.breaker = breaker or OutageBreaker()

    async def scan(
        self, ref: ConversationRef, entry: LedgerEntry | None, *, may_batch: bool = True
    ) -> Outcome | None:
        """The outcome to record, or None when the call went into a batch (`--openai-batch`:
        recorded when the batch is collected). Raises `OverBudget`, and fatal errors.

        An `ItemError` (this conversation only) becomes a failed outcome.
        """
        since = None if self._plan.request.rescan or entry is None else entry.scanned_through
        while True:
            try:
                fetched = await self._source.messages_since(ref.id, since)
                self.breaker.ok("front")
                if fetched.merged_into is not None:
                    return _merged(ref, entry)
                messages = sorted(fetched.messages, key=lambda m: m.created_at)
                prepared = [prepare(m) for m in messages]
                answered = await self._model_finds(ref, prepared, may_batch)
                if answered is None:
                    return None
                finds, dropped, claims = answered
            except TransientError as error:
                if await self.breaker.failed(ref.id, error):
                    continue  # the API was down: paused, and this conversation tries again
                return failed(ref, str(error))
            except ItemError as error:
                return failed(ref, str(error))
            outcome = done(ref, entry, prepared, finds, dropped, claims)
            return replace(outcome, model_call_avoided=self._avoided(prepared))

    def _asks(self, prepared: list[PreparedMessage]) -> bool:
        """Whether to ask the model. A conversation the detector is sure of (`--llm auto`,
        evidence prompting) is still sent when the rules cannot tell a number's status,
        order or date from its message on their own (`shipment.mentions.left_open`)."""
        plan = self._plan
        trust = plan.prompting == "evidence"
        if needs_model(prepared, plan.llm, trust_detector=trust):
            return True
        return (
            trust and needs_model(prepared, plan.llm, trust_detector=False) and left_open(prepared)
        )

    def _avoided(self, prepared: list[PreparedMessage]) -> bool:
        """Not asked only because the detector was sure (`--llm auto`, evidence prompting)."""
        return not self._asks(prepared) and needs_model(
            prepared, self._plan.llm, trust_detector=False
        )

    async def _model_finds(
        self, ref: ConversationRef, prepared: list[PreparedMessage], may_batch: bool
    ) -> ModelStep | None:
        """The model's validated finds (None: not asked), how many numbers were dropped and
        its parcel claims; None when the call went into a batch instead."""
        plan = self._plan
        call = None
        if self._asks(prepared):
            call = model_call(
                ref.subject,
                prepared,
                model=plan.model,
                max_completion_tokens=plan.max_completion_tokens,
                prompting=plan.prompting,
            )
        batch = self._batch
        batched = (
            call is not None and may_batch and batch is not None and batch.takes(prepared, call)
        )
        if plan.request.dry_run:
            planned = Planned(
                ref=ref,
                new_messages=len(prepared),
                call=call,
                avoided=self._avoided(prepared),
                via_batch=batched,
            )
            self.planned.append(planned)
            return None, 0, {}
        if call is None:
            return None, 0, {}
        if batched and batch is not None:
            self._spending.commit_batch(call)
            await batch.add(ref, prepared, call)
            return None
        if self._extractor is None:
            raise ConfigError("the model is needed but no OpenAI client was configured")
        with self._spending.reserve(call):
            claims = await self._extractor.extract(call)
        self.breaker.ok("openai")
        finds, dropped = validate(claims, prepared)
        return finds, dropped, shipment_claims(claims)


def done(
    ref: ConversationRef,
    entry: LedgerEntry | None,
    prepared: Sequence[PreparedMessage],
    finds: Sequence[ModelFind] | None,
    dropped: int,
    claims: Mapping[ClaimKey, ClaimValues] | None = None,
) -> Outcome:
    """Every new message recorded, the numbers merged and described (`claims`: what the
    model said of each parcel; the entry's numbers, stored by earlier scans, are
    described where the new messages name or quote them), the watermark at the newest
    message.

    Batch answers are recorded through this too (`batch/collect.py`)."""
    merged = merge(ref.id, prepared, finds, dropped=dropped)
    earlier = entry.numbers if entry is not None else ()
    numbers, mentions, claims_dropped = describe(prepared, merged, claims, earlier)
    newest = prepared[-1].message if prepared else None
    return Outcome(
        conversation=ref,
        status="done",
        scanned_through=newest.created_at if newest else (entry.scanned_through if entry else None),
        last_message_id=newest.id if newest else ref.last_message_id,
        messages=tuple(
            MessageRecord(
                id=p.message.id,
                created_at=p.message.created_at,
                content_hash=p.content_hash,
                status="done",
                extractor_version=EXTRACTOR_VERSION,
            )
            for p in prepared
        ),
        numbers=numbers,
        llm_dropped=dropped,
        mentions=mentions,
        claims_dropped=claims_dropped,
    )


def _merged(ref: ConversationRef, entry: LedgerEntry | None) -> Outcome:
    """A merged conversation's messages are scanned under the one it was merged into."""
    return Outcome(
        conversation=ref,
        status="done",
        scanned_through=entry.scanned_through if entry else ref.updated_at,
        last_message_id=ref.last_message_id,
    )
