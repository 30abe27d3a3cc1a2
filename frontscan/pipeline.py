"""The scan pipeline: producer → bounded queue → workers → batch writer.

Work is continuous: `concurrency` conversations are in flight at any moment and a
*batch* is only the unit of commit and of the timing line. The pipeline depends on the
small Protocols below, never on aiohttp, openai or psycopg, so it runs the same against
Front, the simulator or test doubles of those Protocols.

Stopping: `stop()` (first Ctrl-C, SIGTERM, a fatal error, or `--max-cost`) ends the
producer at once, discards queued conversations, lets in-flight ones finish and flushes
the writer. `abort()` (second Ctrl-C) also cancels in-flight work; nothing half-done is
recorded because a conversation is only written as a whole outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from frontscan.answers import (
    EXTRACTOR_VERSION,
    Extraction,
    PreparedMessage,
    build_prompt,
    cost_usd,
    estimate_tokens,
    merge,
    needs_model,
    prepare,
    shipment_claims,
    validate,
)
from frontscan.errors import AuthError, ConfigError, ItemError, QuotaError
from frontscan.models import (
    ApiCounters,
    BatchTiming,
    ConversationMessages,
    ConversationRef,
    LedgerEntry,
    LlmMode,
    MessageRecord,
    Outcome,
    Planned,
    RunStats,
    SearchPage,
)
from frontscan.shipment.mentions import describe

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 10.0  # commit a partial batch after this long, so slow runs still checkpoint
FATAL = (AuthError, QuotaError, ConfigError)


class Source(Protocol):
    def search(self, after: float | None, before: float | None) -> AsyncIterator[SearchPage]: ...
    async def messages_since(
        self, conversation_id: str, since: float | None
    ) -> ConversationMessages: ...


class Extractor(Protocol):
    counters: ApiCounters

    async def extract(self, subject: str, prepared: Sequence[PreparedMessage]) -> Extraction: ...


class Ledger(Protocol):
    async def ledger_for(self, ids: Sequence[str]) -> dict[str, LedgerEntry]: ...
    async def record(self, outcomes: Sequence[Outcome], run_id: int | None) -> int: ...


class Reporter(Protocol):
    def add_total(self, conversations: int) -> None: ...
    def skipped(self, conversations: int) -> None: ...
    def conversation_done(self, outcome: Outcome) -> None: ...
    def batch_committed(self, timing: BatchTiming) -> None: ...


@dataclass(frozen=True, slots=True)
class Plan:
    """What to scan and how. `slices` are (after, before) windows, searched in order."""

    slices: tuple[tuple[float | None, float | None], ...]
    llm: LlmMode
    model: str
    max_completion_tokens: int
    concurrency: int = 20
    batch_size: int = 50
    rescan: bool = False
    limit: int | None = None
    max_cost: float | None = None
    dry_run: bool = False
    max_attempts: int = 3
    retry_refs: tuple[ConversationRef, ...] = ()  # --retry-failed: these instead of search


def needs_work(
    ref: ConversationRef, entry: LedgerEntry | None, *, rescan: bool, max_attempts: int
) -> bool:
    """Unscanned: not in the ledger, changed since, or failed with attempts left.

    Unchanged is decided with no Front call: the search result's last message id (from
    `_links.related.last_message`) is the one the ledger recorded, or, when Front gives no
    link, its `updated_at` is not after the watermark. A conversation that failed
    `max_attempts` times waits for `--retry-failed`, so a poisoned one cannot eat every run.
    """
    if rescan or entry is None:
        return True
    if entry.status == "failed":
        return entry.attempts < max_attempts
    if ref.last_message_id is not None and ref.last_message_id == entry.last_message_id:
        return False
    if ref.last_message_id is None and ref.updated_at is not None:
        return entry.scanned_through is None or ref.updated_at > entry.scanned_through
    return True


def p95(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class _Work:
    ref: ConversationRef
    entry: LedgerEntry | None


class Pipeline:
    def __init__(
        self,
        plan: Plan,
        source: Source,
        extractor: Extractor | None,
        ledger: Ledger,
        reporter: Reporter,
        *,
        run_id: int | None = None,
        pressure: Callable[[], tuple[int, float]] = lambda: (0, 0.0),
    ) -> None:
        self.plan = plan
        self._source = source
        self._extractor = extractor
        self._ledger = ledger
        self._reporter = reporter
        self._run_id = run_id
        self._pressure = pressure  # (429s so far, seconds waited for rate budgets so far)
        self.stats = RunStats()
        self.fatal: BaseException | None = None
        self.stop_reason: str | None = None
        self.planned: list[Planned] = []  # dry runs only
        self._queue: asyncio.Queue[_Work | None] = asyncio.Queue(maxsize=2 * plan.concurrency)
        # Bounded too: when the database is slow, workers wait instead of piling up outcomes.
        self._done: asyncio.Queue[tuple[Outcome, float] | None] = asyncio.Queue(
            maxsize=2 * max(plan.batch_size, plan.concurrency)
        )
        self._in_flight: set[str] = set()
        self._producer: asyncio.Task[None] | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._reserved_usd = 0.0

    # -- control ------------------------------------------------------------------------

    def stop(self, reason: str = "interrupted") -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        if self._producer is not None:
            self._producer.cancel()

    def abort(self) -> None:
        self.stop()
        for worker in self._workers:
            worker.cancel()

    @property
    def spent_usd(self) -> float:
        if self._extractor is None:
            return 0.0
        used = self._extractor.counters
        return cost_usd(self.plan.model, used.prompt_tokens, used.completion_tokens)

    async def run(self) -> RunStats:
        writer = asyncio.create_task(self._write())
        self._producer = asyncio.create_task(self._produce())
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.plan.concurrency)]
        await asyncio.wait([self._producer])
        if not self._producer.cancelled() and (error := self._producer.exception()) is not None:
            self._fail(error)
        if self.stop_reason is not None:  # queued but never started: simply not recorded
            while not self._queue.empty():
                self._queue.get_nowait()
        for _ in self._workers:
            await self._queue.put(None)
        await asyncio.wait(self._workers)
        await self._done.put(None)
        await writer
        if self.fatal is not None:
            raise self.fatal
        return self.stats

    def _fail(self, error: BaseException) -> None:
        """Stop the run for good; `run()` re-raises the first fatal error once drained."""
        self.fatal = self.fatal or error
        self.stop("failed")

    # -- producer -----------------------------------------------------------------------

    async def _produce(self) -> None:
        queued = 0
        async for page in self._pages():
            self.stats.conversations_seen += len(page.refs)
            entries = await self._ledger.ledger_for([r.id for r in page.refs])
            skipped = 0
            for ref in page.refs:
                if self.plan.limit is not None and queued >= self.plan.limit:
                    return
                entry = entries.get(ref.id)
                if ref.id in self._in_flight or not needs_work(
                    ref, entry, rescan=self.plan.rescan, max_attempts=self.plan.max_attempts
                ):
                    skipped += 1
                    continue
                self._in_flight.add(ref.id)
                await self._queue.put(_Work(ref, entry))
                queued += 1
            self.stats.conversations_skipped += skipped
            self._reporter.skipped(skipped)

    async def _pages(self) -> AsyncIterator[SearchPage]:
        if self.plan.retry_refs:
            self._reporter.add_total(len(self.plan.retry_refs))
            yield SearchPage(self.plan.retry_refs, len(self.plan.retry_refs))
            return
        for after, before in self.plan.slices:
            first = True
            async for page in self._source.search(after, before):
                if first:
                    self._reporter.add_total(
                        page.total if page.total is not None else len(page.refs)
                    )
                    first = False
                yield page

    # -- workers ------------------------------------------------------------------------

    async def _work(self) -> None:
        while (item := await self._queue.get()) is not None:
            started = time.monotonic()
            try:
                outcome = await self._process(item)
            except FATAL as error:
                self._fail(error)
                continue
            except Exception as error:  # a bug must cost one conversation, not a worker
                logger.exception("bug in %s", item.ref.id, extra={"event": "conversation.bug"})
                outcome = Outcome(
                    item.ref,
                    "failed",
                    None,
                    None,
                    error=f"internal error: {type(error).__name__}: {error}",
                )
            finally:
                self._in_flight.discard(item.ref.id)
            if outcome is not None:
                await self._done.put((outcome, time.monotonic() - started))

    async def _process(self, item: _Work) -> Outcome | None:
        ref, entry = item.ref, item.entry
        since = None if self.plan.rescan or entry is None else entry.scanned_through
        try:
            fetched = await self._source.messages_since(ref.id, since)
            if fetched.merged_into is not None:
                return self._merged(ref, entry)
            prepared = [prepare(m) for m in sorted(fetched.messages, key=lambda m: m.created_at)]
            finds = None
            dropped = 0
            claims = None
            asks_model = needs_model(prepared, self.plan.llm)
            if self.plan.dry_run:
                self._plan(ref, prepared, asks_model)
            elif asks_model:
                answer = await self._ask_model(ref, prepared)
                if answer is None:
                    return None
                finds, dropped = validate(answer, prepared)
                claims = shipment_claims(answer)
        except FATAL:
            raise
        except ItemError as error:
            return Outcome(ref, "failed", None, None, error=str(error))
        newest = prepared[-1].message if prepared else None
        numbers, mentions, claims_dropped = describe(
            prepared, merge(ref.id, prepared, finds), claims
        )
        return Outcome(
            conversation=ref,
            status="done",
            scanned_through=newest.created_at
            if newest
            else (entry.scanned_through if entry else None),
            last_message_id=newest.id if newest else ref.last_message_id,
            messages=tuple(
                MessageRecord(
                    p.message.id, p.message.created_at, p.content_hash, "done", EXTRACTOR_VERSION
                )
                for p in prepared
            ),
            numbers=numbers,
            llm_dropped=dropped,
            mentions=mentions,
            claims_dropped=claims_dropped,
        )

    def _plan(self, ref: ConversationRef, prepared: list[PreparedMessage], asks: bool) -> None:
        prompt_tokens, budget = self._estimate(ref, prepared) if asks else (0, 0)
        self.planned.append(Planned(ref, len(prepared), asks, prompt_tokens, budget))

    def _estimate(self, ref: ConversationRef, prepared: list[PreparedMessage]) -> tuple[int, int]:
        prompt = build_prompt(ref.subject, prepared)
        return estimate_tokens(prompt, self.plan.max_completion_tokens)

    async def _ask_model(
        self, ref: ConversationRef, prepared: list[PreparedMessage]
    ) -> Extraction | None:
        """Call the model, unless the call could take the spend past `--max-cost`."""
        if self._extractor is None:
            raise ConfigError("the model is needed but no OpenAI client was configured")
        prompt_tokens, budget = self._estimate(ref, prepared)
        worst = cost_usd(self.plan.model, prompt_tokens, budget)
        limit = self.plan.max_cost
        if limit is not None and self.spent_usd + self._reserved_usd + worst > limit:
            self.stop("max-cost")
            return None
        self._reserved_usd += worst
        try:
            return await self._extractor.extract(ref.subject, prepared)
        finally:
            self._reserved_usd -= worst

    def _merged(self, ref: ConversationRef, entry: LedgerEntry | None) -> Outcome:
        """A merged conversation's messages are scanned under the one it was merged into."""
        return Outcome(
            ref, "done", entry.scanned_through if entry else ref.updated_at, ref.last_message_id
        )

    # -- writer -------------------------------------------------------------------------

    async def _write(self) -> None:
        """Commit every `batch_size` outcomes, or sooner when a batch has waited too long."""
        batch: list[tuple[Outcome, float]] = []
        started = time.monotonic()
        pressure_before = self._pressure()
        while True:
            deadline = started + FLUSH_SECONDS - time.monotonic() if batch else None
            try:
                async with asyncio.timeout(None if deadline is None else max(0.0, deadline)):
                    item = await self._done.get()
            except TimeoutError:
                pass  # the batch has waited long enough: commit what there is
            else:
                if item is None:
                    break
                if not batch:
                    started = time.monotonic()
                batch.append(item)
                self._reporter.conversation_done(item[0])
                if len(batch) < self.plan.batch_size:
                    continue
            await self._commit(batch, time.monotonic() - started, pressure_before)
            batch = []
            pressure_before = self._pressure()
        if batch:
            await self._commit(batch, time.monotonic() - started, pressure_before)

    async def _commit(
        self, batch: list[tuple[Outcome, float]], seconds: float, before: tuple[int, float]
    ) -> None:
        outcomes = [o for o, _ in batch]
        stored = 0
        if not self.plan.dry_run:
            try:
                stored = await self._ledger.record(outcomes, self._run_id)
            except Exception as error:  # the database is gone: stop, lose nothing recorded
                self._fail(error)  # and keep draining, so no worker waits on a full queue
                return
        failed = sum(o.status == "failed" for o in outcomes)
        self.stats.batches += 1
        self.stats.conversations_scanned += len(outcomes) - failed
        self.stats.conversations_failed += failed
        self.stats.messages_processed += sum(len(o.messages) for o in outcomes)
        self.stats.numbers_found += stored
        self.stats.llm_dropped += sum(o.llm_dropped for o in outcomes)
        self.stats.claims_dropped += sum(o.claims_dropped for o in outcomes)
        now = self._pressure()
        timing = BatchTiming(
            index=self.stats.batches,
            conversations=len(outcomes),
            seconds=seconds,
            p95_seconds=p95([d for _, d in batch]),
            numbers=stored,
            failed=failed,
            throttled=now[0] - before[0],
            waited_seconds=now[1] - before[1],
        )
        self._reporter.batch_committed(timing)
